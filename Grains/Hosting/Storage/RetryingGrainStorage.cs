using System.Diagnostics;
using System.Net.Sockets;
using Distributed.Grains.Messaging.Payloads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using StackExchange.Redis;

namespace Distributed.Grains.Hosting.Storage;

/// <summary>
/// A grain storage that rides out an unreachable store: a read or write that fails because the store is away (Redis
/// restarting, the network down) is repeated with backoff, 0.25 s doubling to 5 s, for up to <see cref="Patience"/>
/// from the first failure, so the job that waits on it pauses instead of failing. Past that it fails with
/// <see cref="StorageUnavailableException"/>, whose message is one line (the client library's own runs to kilobytes).
/// An ETag conflict or any other error the store itself raised is passed on at once: repeating it cannot help.
/// </summary>
public sealed class RetryingGrainStorage(string name, IGrainStorage inner, TimeSpan patience, ILogger? logger = null) : IGrainStorage
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public TimeSpan Patience { get; } = patience;

    /// <summary>The name the wrapped store is registered under.</summary>
    public static string InnerName(string name) => $"{name}-store";

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryAsync("read", stateName, grainId, () => inner.ReadStateAsync(stateName, grainId, grainState));

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryAsync("write", stateName, grainId, () => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryAsync("clear", stateName, grainId, () => inner.ClearStateAsync(stateName, grainId, grainState));

    /// <summary>True when <paramref name="e"/> says the store could not be reached, not that it refused.</summary>
    public static bool IsUnreachable(Exception e) => e switch
    {
        InconsistentStateException => false,
        RedisConnectionException or RedisTimeoutException or TimeoutException or SocketException => true,
        // Orleans' Redis storage flattens the cause into its message on writes ("… RedisConnectionException: …").
        _ when e.GetType().Name == "RedisStorageException" && (e.InnerException is { } cause ? IsUnreachable(cause) : MentionsOutage(e.Message)) => true,
        _ when TransientFaults.IsTransient(e) => true,
        AggregateException { InnerExceptions.Count: 1 } a => IsUnreachable(a.InnerExceptions[0]),
        _ => e.InnerException is { } next && IsUnreachable(next),
    };

    /// <summary>The cause in one line: the innermost message, cut before the client library's diagnostics.</summary>
    public static string Reason(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        string text = e.Message.ReplaceLineEndings(" ");
        int named = text.LastIndexOf("Exception: ", StringComparison.Ordinal);
        if (named >= 0) text = text[(named + "Exception: ".Length)..];
        foreach (string cut in (string[])["; ", ", mc:", ", inst:", ", serverEndpoint:"])
        {
            int at = text.IndexOf(cut, StringComparison.Ordinal);
            if (at > 0) text = text[..at];
        }
        text = text.Trim();
        return text.Length <= 160 ? text : text[..160] + "…";
    }

    private static bool MentionsOutage(string message) =>
        message.Contains("RedisConnectionException", StringComparison.Ordinal) || message.Contains("RedisTimeoutException", StringComparison.Ordinal)
        || message.Contains("No connection is", StringComparison.Ordinal);

    private async Task RetryAsync(string operation, string stateName, GrainId grainId, Func<Task> attempt)
    {
        long failingSince = 0;
        TimeSpan delay = FirstDelay;
        while (true)
        {
            try
            {
                await attempt();
                if (failingSince != 0)
                {
                    double outage = Stopwatch.GetElapsedTime(failingSince).TotalSeconds;
                    HostingLog.StorageBack(_logger, name, outage, operation, grainId);
                }
                return;
            }
            catch (Exception e) when (IsUnreachable(e))
            {
                if (failingSince == 0)
                {
                    failingSince = Stopwatch.GetTimestamp();
                    HostingLog.StorageUnreachable(_logger, name, Reason(e), operation, grainId, Patience.TotalSeconds);
                }
                TimeSpan failing = Stopwatch.GetElapsedTime(failingSince);
                if (failing + delay > Patience)
                    throw new StorageUnavailableException($"storage '{name}' unreachable for {failing.TotalSeconds:F0} s (limit {Patience.TotalSeconds:F0} s, --storage-retry): {Reason(e)}");
            }
            await Task.Delay(delay);
            delay = delay * 2 < LongestDelay ? delay * 2 : LongestDelay;
        }
    }
}

/// <summary>A store stayed unreachable past the retry limit; the message is one line.</summary>
[GenerateSerializer, Alias("distributed.storage-unavailable")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException(string message)
        : base(message)
    {
    }
}

public static class RetryingGrainStorageServiceCollectionExtensions
{
    /// <summary>Registers <paramref name="name"/> as a <see cref="RetryingGrainStorage"/> over the store named <see cref="RetryingGrainStorage.InnerName"/>.</summary>
    public static IServiceCollection AddRetryingGrainStorage(this IServiceCollection services, string name, TimeSpan patience) =>
        services.AddKeyedSingleton<IGrainStorage>(name, (provider, _) => new RetryingGrainStorage(name,
            provider.GetRequiredKeyedService<IGrainStorage>(RetryingGrainStorage.InnerName(name)), patience,
            provider.GetService<ILoggerFactory>()?.CreateLogger<RetryingGrainStorage>()));
}
