using Distributed.Compute.Tensors;

namespace Distributed.Compute.Training;

/// <summary>
/// A shard's decoded, preprocessed images, least recently used first out, under a byte budget. An image being worked
/// on is pinned (<see cref="Rent"/> until the lease is disposed) and never evicted; a rent that does not fit even after
/// evicting every unpinned image waits for a lease to end, so the cached bytes never exceed the budget (a shard with
/// more threads than images that fit simply runs fewer at a time). Eviction costs a re-read: a decode and the
/// preprocessing (about 5 ms for a 256×256 JPEG with LCN on one core), against seconds of inference per image.
/// Thread-safe.
/// </summary>
public sealed class ImageCache
{
    private readonly object _lock = new();
    private readonly Dictionary<int, Entry> _entries = new();
    private readonly LinkedList<int> _recency = new();   // front: most recently used
    private long _bytes;

    public ImageCache(long budgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        Budget = budgetBytes;
    }

    public long Budget { get; }

    /// <summary>Bytes the cache may not use because other resident state counts against the same budget.</summary>
    public long Reserved { get; set; }

    /// <summary>Bytes of the images held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock) return _bytes;
        }
    }

    /// <summary>Most bytes ever held at once (for tests and benchmarks).</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Images decoded so far, first loads and re-reads after eviction.</summary>
    public long Loads { get; private set; }

    /// <summary>Images the cache let go so far.</summary>
    public long Evictions { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    /// <summary>Bytes the images may use now: the budget less <see cref="Reserved"/>, but always room for one image of <paramref name="bytes"/>.</summary>
    private long Limit(long bytes) => Math.Max(Budget - Reserved, bytes);

    /// <summary>The image of <paramref name="key"/>, loaded from <paramref name="source"/> if absent, pinned until the lease is disposed.</summary>
    public Lease Rent(int key, IImageSource source, long bytes)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out Entry? hit))
            {
                Touch(hit);
                hit.Pins++;
                return new Lease(this, key, hit.Image);
            }
        }
        Tensor3 image = source.Load();
        if (4L * image.Length != bytes)
            throw new InvalidOperationException($"{source.Name} re-read as {image}, {4L * image.Length} bytes; it was {bytes} bytes when added.");
        lock (_lock)
        {
            Loads++;
            while (true)
            {
                if (_entries.TryGetValue(key, out Entry? raced))   // another thread loaded it meanwhile
                {
                    Touch(raced);
                    raced.Pins++;
                    return new Lease(this, key, raced.Image);
                }
                EvictUnpinned(Limit(bytes) - bytes);
                if (_bytes + bytes <= Limit(bytes)) break;
                Monitor.Wait(_lock);   // every byte left is pinned: wait for a lease to end
            }
            var entry = new Entry(image, bytes, _recency.AddFirst(key)) { Pins = 1 };
            _entries.Add(key, entry);
            _bytes += bytes;
            PeakBytes = Math.Max(PeakBytes, _bytes);
            return new Lease(this, key, image);
        }
    }

    /// <summary>Evicts unpinned images until the cache fits its budget (after <see cref="Reserved"/> grew).</summary>
    public void Trim()
    {
        lock (_lock) EvictUnpinned(Math.Max(Budget - Reserved, 0));
    }

    public void Clear()
    {
        lock (_lock)
        {
            foreach (int key in _entries.Where(e => e.Value.Pins == 0).Select(e => e.Key).ToArray()) Remove(key);
        }
    }

    private void EvictUnpinned(long target)
    {
        LinkedListNode<int>? node = _recency.Last;
        while (_bytes > target && node is not null)
        {
            LinkedListNode<int>? previous = node.Previous;
            if (_entries[node.Value].Pins == 0)
            {
                Remove(node.Value);
                Evictions++;
            }
            node = previous;
        }
    }

    private void Remove(int key)
    {
        Entry entry = _entries[key];
        _recency.Remove(entry.Node);
        _entries.Remove(key);
        _bytes -= entry.Bytes;
    }

    private void Touch(Entry entry)
    {
        _recency.Remove(entry.Node);
        _recency.AddFirst(entry.Node);
    }

    private void Release(int key)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out Entry? entry)) entry.Pins--;
            if (_bytes > Budget - Reserved) EvictUnpinned(Math.Max(Budget - Reserved, 0));
            Monitor.PulseAll(_lock);
        }
    }

    private sealed class Entry(Tensor3 image, long bytes, LinkedListNode<int> node)
    {
        public Tensor3 Image { get; } = image;
        public long Bytes { get; } = bytes;
        public LinkedListNode<int> Node { get; } = node;
        public int Pins { get; set; }
    }

    /// <summary>A pinned image; dispose to unpin.</summary>
    public readonly struct Lease(ImageCache cache, int key, Tensor3 image) : IDisposable
    {
        public Tensor3 Image { get; } = image;

        public void Dispose() => cache.Release(key);
    }
}
