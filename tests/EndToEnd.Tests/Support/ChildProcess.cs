using System.Diagnostics;
using System.Text;

namespace Distributed.EndToEnd.Tests.Support;

/// <summary>
/// A program this test started: stdout and stderr go to a log file, and disposing it kills it with its whole process
/// tree (SIGKILL) if it is still running, so a failed test leaves nothing behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();
    private readonly List<string> _output = [];

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => Write(e.Data, stdout: true);
        _process.ErrorDataReceived += (_, e) => Write(e.Data);
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static ChildProcess Start(string name, string program, IEnumerable<string> arguments, string logFolder, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? logFolder,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        // No colour or progress animation in logs; no telemetry exporter from the environment.
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        var process = new Process { StartInfo = info };
        if (!process.Start()) throw new InvalidOperationException($"could not start {name}: {program}");
        var child = new ChildProcess(name, process, Path.Combine(logFolder, $"{name}.log"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>SIGKILL, no grace: the fault under test.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>Waits for exit up to <paramref name="timeout"/>; false if it is still running.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The last lines of its log (for failure messages).</summary>
    public string Tail(int lines = 25)
    {
        lock (_gate)
        {
            _log.Flush();
            string[] all = File.ReadAllLines(LogPath);
            return $"--- {Name} (pid {Id}), last {Math.Min(lines, all.Length)} of {all.Length} lines of {LogPath}:\n"
                + string.Join('\n', all.TakeLast(lines));
        }
    }

    /// <summary>What it wrote to stdout so far, line by line (the log interleaves stderr too).</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_gate) return [.. _output];
        }
    }

    public string Log()
    {
        lock (_gate)
        {
            _log.Flush();
            return File.ReadAllText(LogPath);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        lock (_gate) _log.Dispose();
        _process.Dispose();
    }

    private void Write(string? line, bool stdout = false)
    {
        if (line is null) return;
        lock (_gate)
        {
            if (stdout) _output.Add(line);
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after disposal: the process is being killed.
            }
        }
    }
}
