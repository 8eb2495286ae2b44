using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Distributed.Client.Commands;

namespace Distributed.Client.Output;

/// <summary>
/// A command's output folder, built whole in a hidden sibling (<c>.NAME.partial-PID-ID</c>) and swapped in by
/// <see cref="Commit"/>: the folder at the final path is always one complete run, never a mix of two. A run that
/// fails, is cancelled or is killed before the swap leaves the previous run untouched; the swap itself is two renames
/// in one parent folder (the old run aside, the new one in) and an interrupted swap is undone by the next
/// <see cref="Begin"/> on that path. Files an older run wrote and this one does not (filters-L3.* after a 2-layer run
/// over a 3-layer one) are gone with the old folder.
/// <para>
/// <see cref="Begin"/> is also the check of <c>--out</c>, done before any work: the path must not be empty or a file,
/// must lie outside the folders the run reads (images, model), and an existing folder is replaced only if it is empty
/// or holds nothing but a run's outputs — never a folder of the user's own files. Creating the staging folder then
/// proves the place writable.
/// </para>
/// </summary>
internal sealed class StagedOutput : IDisposable
{
    /// <summary>Written into every run folder: the files of the run and which image each per-image file belongs to.</summary>
    public const string IndexFile = "index.json";

    private const string PartialInfix = ".partial-";
    private const string OldInfix = ".old-";
    private const string LockSuffix = ".lock";
    private readonly FileStream _lock;
    private bool _committed;

    private StagedOutput(string path, string staging, FileStream held, CancellationToken cancellationToken)
    {
        Path = path;
        _lock = held;
        Folder = new OutputFolder(staging, cancellationToken);
    }

    /// <summary>The final folder (full path).</summary>
    public string Path { get; }

    /// <summary>Where the files go until <see cref="Commit"/>.</summary>
    public OutputFolder Folder { get; }

    /// <summary>
    /// Checks <paramref name="path"/> as the <paramref name="option"/> of a command that reads
    /// <paramref name="inputs"/> (image folders or files, a model folder), repairs an interrupted earlier swap, and
    /// creates the staging folder. Every refusal is a <see cref="UserException"/> naming the option and the path.
    /// </summary>
    public static StagedOutput Begin(string? path, string option, IEnumerable<string> inputs, CancellationToken cancellationToken = default)
    {
        string full = CheckPath(path, option, inputs);
        string parent = System.IO.Path.GetDirectoryName(full) ?? throw new UserException($"{option} {path}: is a file system root; give a folder below it.");
        string name = System.IO.Path.GetFileName(full);
        try
        {
            Directory.CreateDirectory(parent);
            FileStream held = Lock(parent, name, option, path!);
            try
            {
                RecoverInterruptedSwap(parent, name, full);
                CheckReplaceable(full, option, path!);
                string staging = System.IO.Path.Combine(parent, $".{name}{PartialInfix}{Environment.ProcessId}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(staging);
                return new StagedOutput(full, staging, held, cancellationToken);
            }
            catch
            {
                held.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserException($"{option} {path}: cannot write there ({e.Message.Split('\n', 2)[0].Trim()}).", e);
        }
    }

    /// <summary>
    /// Writes <see cref="IndexFile"/> (<paramref name="images"/>: each input image and the stem its files carry), then
    /// swaps the staged folder in for the final one. Not cancellable: it is two renames.
    /// </summary>
    public void Commit(string command, IReadOnlyList<OutputNames.Entry> images)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        string[] files = [.. Directory.EnumerateFiles(Folder.Path).Select(f => System.IO.Path.GetFileName(f)!).Where(n => !n.StartsWith('.')).Append(IndexFile).Order(StringComparer.Ordinal)];
        var index = new OutputIndex(command, files, [.. images.Select(e => new OutputIndex.Image(e.Index, e.Name, e.Stem))]);
        Folder.WriteText(IndexFile, JsonSerializer.Serialize(index, OutputIndex.Json), ignoreCancellation: true);

        string parent = System.IO.Path.GetDirectoryName(Path)!;
        string name = System.IO.Path.GetFileName(Path);
        if (Directory.Exists(Path))
        {
            string old = System.IO.Path.Combine(parent, $".{name}{OldInfix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.Move(Path, old);
            try
            {
                SwapHook?.Invoke();
                Directory.Move(Folder.Path, Path);
            }
            catch
            {
                Directory.Move(old, Path);
                throw;
            }
            TryDeleteTree(old);
        }
        else
        {
            Directory.Move(Folder.Path, Path);
        }
        _committed = true;
    }

    /// <summary>Removes the staging folder of a run that was not committed (failed or cancelled), and lets the next run at the path begin.</summary>
    public void Dispose()
    {
        if (!_committed) TryDeleteTree(Folder.Path);
        _committed = true;
        _lock.Dispose();
    }

    /// <summary>
    /// One run at a time per output path: an exclusive lock on <c>.NAME.lock</c> beside it (an advisory flock on Unix,
    /// released by the kernel when the process dies, so a killed run never blocks the next). Two runs swapping into one
    /// folder at once could otherwise interleave their renames; the second is refused before it does any work. The
    /// empty lock file stays: deleting it on release would let a third run lock a fresh file while a second still
    /// holds the old one.
    /// </summary>
    private static FileStream Lock(string parent, string name, string option, string path)
    {
        string file = System.IO.Path.Combine(parent, $".{name}{LockSuffix}");
        try
        {
            return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (File.Exists(file) && e is not PathTooLongException)
        {
            throw new UserException($"{option} {path}: another run is writing there now; wait for it to finish or choose another folder.", e);
        }
    }

    /// <summary>Test seam: runs between the two renames of a swap (where a crash would leave no folder at the path).</summary>
    internal static Action? SwapHook { get; set; }

    private static string CheckPath(string? path, string option, IEnumerable<string> inputs)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UserException($"{option} is empty; give the folder to write the results to.");
        string full;
        try
        {
            full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UserException($"{option} {path}: not a usable path ({e.Message}).", e);
        }
        if (File.Exists(full)) throw new UserException($"{option} {path}: is a file; give a folder (it is created, or replaced whole if it holds an earlier run).");
        foreach (string input in inputs)
        {
            string folder = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(File.Exists(input) ? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(input))! : input));
            if (IsSameOrInside(full, folder))
                throw new UserException($"{option} {path}: is {(full == folder ? "" : "inside ")}the input folder {folder}; the outputs would be read as inputs next time. Choose a folder outside it.");
            if (IsSameOrInside(folder, full))
                throw new UserException($"{option} {path}: holds the input folder {folder}, and replacing it would remove the inputs. Choose another folder.");
        }
        return full;
    }

    private static bool IsSameOrInside(string path, string folder) =>
        path == folder || path.StartsWith(folder.EndsWith(System.IO.Path.DirectorySeparatorChar) ? folder : folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>An existing folder may be replaced only if every entry in it is a file some run wrote.</summary>
    private static void CheckReplaceable(string full, string option, string path)
    {
        if (!Directory.Exists(full)) return;
        HashSet<string> listed = ListedFiles(full);
        foreach (string entry in Directory.EnumerateFileSystemEntries(full).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(entry);
            bool isFile = File.Exists(entry) && !new FileInfo(entry).Attributes.HasFlag(FileAttributes.ReparsePoint);
            if (isFile && (listed.Contains(name) || OutputNames.IsRunOutput(name))) continue;
            throw new UserException($"{option} {path}: holds '{name}', which no run wrote, and the folder is replaced whole. Choose an empty or new folder, or one an earlier run wrote.");
        }
    }

    private static HashSet<string> ListedFiles(string folder)
    {
        string index = System.IO.Path.Combine(folder, IndexFile);
        if (!File.Exists(index)) return [];
        try
        {
            return [.. JsonSerializer.Deserialize<OutputIndex>(File.ReadAllText(index), OutputIndex.Json)?.Files ?? []];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>
    /// A swap killed between its renames leaves the previous run at <c>.NAME.old-*</c> and nothing at the path: put it
    /// back. Leftovers of swaps that finished, and staging folders of processes that are gone, are removed.
    /// </summary>
    private static void RecoverInterruptedSwap(string parent, string name, string full)
    {
        string[] olds = [.. Directory.EnumerateDirectories(parent, $".{name}{OldInfix}*").OrderByDescending(Directory.GetLastWriteTimeUtc)];
        if (olds.Length > 0 && !Directory.Exists(full)) Directory.Move(olds[0], full);
        foreach (string old in olds.Where(Directory.Exists)) TryDeleteTree(old);
        foreach (string partial in Directory.EnumerateDirectories(parent, $".{name}{PartialInfix}*"))
            if (OwnerPid(System.IO.Path.GetFileName(partial), name) is { } pid && !IsRunning(pid)) TryDeleteTree(partial);
    }

    private static int? OwnerPid(string folderName, string name)
    {
        Match m = Regex.Match(folderName[(name.Length + 1 + PartialInfix.Length)..], "^([0-9]+)-");
        return m.Success && int.TryParse(m.Groups[1].Value, out int pid) ? pid : null;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDeleteTree(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden folder is removed by the next run on this path.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>index.json: which command wrote the folder, its files, and the file stem of each input image.</summary>
internal sealed record OutputIndex(string Command, IReadOnlyList<string> Files, IReadOnlyList<OutputIndex.Image> Images)
{
    public const string CurrentFormat = "distributed.outputs/1";

    [JsonPropertyOrder(-1)]
    public string Format { get; init; } = CurrentFormat;

    public sealed record Image(int Index, string Name, string Stem);

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
