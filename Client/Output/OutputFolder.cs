namespace Distributed.Client.Output;

/// <summary>
/// The folder a run writes its results to. Every file is written atomically: the bytes go to a hidden temporary
/// file in the same folder, are flushed to disk, and only then renamed over the final name — so a file that exists
/// under its final name is complete, whether the run was killed, the disk filled up or a writer threw half way.
/// </summary>
public sealed class OutputFolder
{
    public OutputFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The full path <paramref name="fileName"/> gets in this folder.</summary>
    public string PathOf(string fileName) => System.IO.Path.Combine(Path, CheckedName(fileName));

    public string WriteBytes(string fileName, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        return Write(fileName, stream => stream.Write(copy));
    }

    public string WriteText(string fileName, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Write(fileName, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>Runs <paramref name="write"/> on a temporary file, then moves it to <paramref name="fileName"/>; returns the final path.</summary>
    public string Write(string fileName, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
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
