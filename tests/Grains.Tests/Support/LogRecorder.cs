using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Tests.Support;

/// <summary>
/// Keeps every log line the in-process test silos write (they share this process), so tests can assert what a job
/// logged. Only the product's own categories are kept (Orleans' are many and not ours to check).
/// </summary>
public sealed class LogRecorder : ILoggerProvider
{
    public static LogRecorder Instance { get; } = new();

    private readonly ConcurrentQueue<Entry> _entries = new();

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    /// <summary>Lines that mention <paramref name="job"/> as the coordinator's lines do ("job {id}: …").</summary>
    public IReadOnlyList<Entry> ForJob(string job) => [.. _entries.Where(e => e.Message.StartsWith($"job {job}: ", StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("Distributed.", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) recorder._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
