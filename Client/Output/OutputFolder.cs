namespace Distributed.Client.Output;

/// <summary>
/// The folder a run writes its results to. Every file is written atomically: the bytes go to a hidden temporary
/// file in the same folder, are flushed to disk, and only then renamed over the final name — so a file that exists
/// under its final name is complete, whether the run was killed, the disk filled up or a writer threw half way.
/// A whole run is made atomic one level up: <see cref="StagedOutput"/> fills such a folder aside and swaps it in.
/// </summary>
public sealed class OutputFolder
{
    private readonly CancellationToken _cancellationToken;

    /// <param name="path">The folder; created if missing.</param>
    /// <param name="cancellationToken">Checked before every file: a cancelled run stops between files, not inside one.</param>
    public OutputFolder(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
        _cancellationToken = cancellationToken;
    }

    public string Path { get; }

    /// <summary>Raised with the final path after each file lands (progress, and the tests' way to interrupt a run at a chosen file).</summary>
    public event Action<string>? Wrote;

    /// <summary>The full path <paramref name="fileName"/> gets in this folder.</summary>
    public string PathOf(string fileName) => System.IO.Path.Combine(Path, CheckedName(fileName));

    public string WriteBytes(string fileName, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        return Write(fileName, stream => stream.Write(copy));
    }

    public string WriteText(string fileName, string text, bool ignoreCancellation = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Write(fileName, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(text);
        }, ignoreCancellation);
    }

    /// <summary>Runs <paramref name="write"/> on a temporary file, then moves it to <paramref name="fileName"/>; returns the final path.</summary>
    public string Write(string fileName, Action<Stream> write, bool ignoreCancellation = false)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (!ignoreCancellation) _cancellationToken.ThrowIfCancellationRequested();
        string final = PathOf(fileName);
        string temporary = System.IO.Path.Combine(Path, $".{CheckedName(fileName)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, final, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        Wrote?.Invoke(final);
        return final;
    }

    private static string CheckedName(string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        if (fileName != System.IO.Path.GetFileName(fileName) || fileName is "." or "..")
            throw new ArgumentException($"'{fileName}' is not a plain file name.", nameof(fileName));
        if (fileName.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"'{fileName}' holds a character a file name cannot.", nameof(fileName));
        return fileName;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original failure is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
