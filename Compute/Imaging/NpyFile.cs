using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Imaging;

/// <summary>An array read from a .npy file: <see cref="Shape"/> in C order and its elements as float32.</summary>
public sealed record NpyArray(IReadOnlyList<int> Shape, float[] Data, string Descr)
{
    public long Count => Data.LongLength;

    /// <summary>Reads a 3-D array as a <see cref="Tensor3"/> [Shape[0], Shape[1], Shape[2]] sharing <see cref="Data"/>.</summary>
    public Tensor3 ToTensor3()
    {
        if (Shape.Count != 3) throw new InvalidDataException($"shape ({string.Join(", ", Shape)}) is not 3-D.");
        return new Tensor3(Shape[0], Shape[1], Shape[2], Data);
    }

    /// <summary>Reads a 4-D array [K, C, s, s] as a <see cref="FilterBank"/> sharing <see cref="Data"/>.</summary>
    public FilterBank ToFilterBank()
    {
        if (Shape.Count != 4 || Shape[2] != Shape[3]) throw new InvalidDataException($"shape ({string.Join(", ", Shape)}) is not [K, C, s, s].");
        return new FilterBank(Shape[0], Shape[1], Shape[2], Data);
    }
}

/// <summary>
/// NumPy's .npy format, version 1.0, as <c>numpy.save</c> writes it: the magic <c>\x93NUMPY</c>, version 1 0, a
/// little-endian uint16 header length, then an ASCII dict
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces and ended by '\n' so the
/// data starts at a multiple of 64 bytes, then the elements in C order. Writes float32 ('&lt;f4'); reads '&lt;f4' and
/// '&lt;f8' (converted to float32), versions 1.0, 2.0 and 3.0, C order only.
/// </summary>
public static class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int Align = 64;

    /// <summary>The header numpy writes for a float32 C-order array of <paramref name="shape"/>, magic to '\n'.</summary>
    public static byte[] Header(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (int d in shape) ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        string tuple = shape.Count == 1
            ? $"({shape[0].ToString(CultureInfo.InvariantCulture)},)"
            : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = Align - unpadded % Align; // numpy pads a whole 64 when already aligned
        int headerLength = dict.Length + padding + 1;
        if (headerLength > ushort.MaxValue) throw new ArgumentException($"shape of {shape.Count} dimensions needs a version 2.0 header.", nameof(shape));
        var header = new byte[Magic.Length + 4 + headerLength];
        Magic.CopyTo(header);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)headerLength);
        Encoding.ASCII.GetBytes(dict, header.AsSpan(10));
        header.AsSpan(10 + dict.Length, padding).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    public static void Write(Stream stream, IReadOnlyList<int> shape, ReadOnlySpan<float> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count != data.Length) throw new ArgumentException($"data has {data.Length} elements; shape ({string.Join(", ", shape)}) needs {count}.", nameof(data));
        stream.Write(Header(shape));
        var buffer = new byte[Math.Min(data.Length, 16384) * sizeof(float)];
        for (int start = 0; start < data.Length; start += buffer.Length / sizeof(float))
        {
            int n = Math.Min(buffer.Length / sizeof(float), data.Length - start);
            for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), data[start + i]);
            stream.Write(buffer, 0, n * sizeof(float));
        }
    }

    /// <summary>The whole file in memory: header then data.</summary>
    public static byte[] ToBytes(IReadOnlyList<int> shape, ReadOnlySpan<float> data)
    {
        using var stream = new MemoryStream();
        Write(stream, shape, data);
        return stream.ToArray();
    }

    /// <summary>Filters [K, C, s, s], as <c>filters-L{n}.npy</c>.</summary>
    public static byte[] ToBytes(FilterBank filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        return ToBytes([filters.Maps, filters.Inputs, filters.Size, filters.Size], filters.Data);
    }

    /// <summary>Planes [P, rows, cols], as feature maps are saved.</summary>
    public static byte[] ToBytes(Tensor3 tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return ToBytes([tensor.Planes, tensor.Rows, tensor.Cols], tensor.Data);
    }

    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Reads one array; throws <see cref="InvalidDataException"/> for anything that is not a C-order f4/f8 .npy.</summary>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(stream, prefix, "the magic");
        if (!prefix[..6].SequenceEqual(Magic)) throw new InvalidDataException("not a .npy file (bad magic).");
        int major = prefix[6];
        int headerLength;
        Span<byte> size = stackalloc byte[4];
        switch (major)
        {
            case 1:
                ReadExactly(stream, size[..2], "the header length");
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(size);
                break;
            case 2 or 3:
                ReadExactly(stream, size, "the header length");
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(size);
                if (length > 1 << 20) throw new InvalidDataException($"header length {length} is implausible.");
                headerLength = (int)length;
                break;
            default:
                throw new InvalidDataException($"format version {major}.{prefix[7]} is not supported.");
        }
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, "the header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        string descr = ParseString(header, "descr");
        if (ParseLiteral(header, "fortran_order") != "False") throw new InvalidDataException("Fortran-order arrays are not supported.");
        int[] shape = ParseShape(header);
        int width = descr switch
        {
            "<f4" => 4,
            "<f8" => 8,
            _ => throw new InvalidDataException($"dtype '{descr}' is not supported (only '<f4' and '<f8')."),
        };
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count > Array.MaxLength) throw new InvalidDataException($"shape ({string.Join(", ", shape)}) is too large.");
        var data = new float[count];
        var buffer = new byte[Math.Min(count * width, 1 << 16)];
        long done = 0;
        while (done < count)
        {
            int n = (int)Math.Min(buffer.Length / width, count - done);
            ReadExactly(stream, buffer.AsSpan(0, n * width), "the data");
            for (int i = 0; i < n; i++)
                data[done + i] = width == 4
                    ? BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(i * 4))
                    : (float)BinaryPrimitives.ReadDoubleLittleEndian(buffer.AsSpan(i * 8));
            done += n;
        }
        return new NpyArray(shape, data, descr);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"truncated .npy file (ends inside {what}).", ex);
        }
    }

    private static int ValueStart(string header, string key)
    {
        int at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0) throw new InvalidDataException($"header has no '{key}': {header.Trim()}");
        at = header.IndexOf(':', at);
        if (at < 0) throw new InvalidDataException($"header has no value for '{key}'.");
        at++;
        while (at < header.Length && header[at] == ' ') at++;
        return at;
    }

    private static string ParseString(string header, string key)
    {
        int at = ValueStart(header, key);
        if (at >= header.Length || header[at] != '\'') throw new InvalidDataException($"header '{key}' is not a string.");
        int end = header.IndexOf('\'', at + 1);
        if (end < 0) throw new InvalidDataException($"header '{key}' is not terminated.");
        return header[(at + 1)..end];
    }

    private static string ParseLiteral(string header, string key)
    {
        int at = ValueStart(header, key);
        int end = at;
        while (end < header.Length && char.IsLetter(header[end])) end++;
        return header[at..end];
    }

    private static int[] ParseShape(string header)
    {
        int at = ValueStart(header, "shape");
        if (at >= header.Length || header[at] != '(') throw new InvalidDataException("header 'shape' is not a tuple.");
        int end = header.IndexOf(')', at);
        if (end < 0) throw new InvalidDataException("header 'shape' is not terminated.");
        string[] parts = header[(at + 1)..end].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].TrimEnd('L'); // Python 2 wrote longs as 5L
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"header 'shape' has a bad extent '{parts[i]}'.");
        }
        return shape;
    }
}
