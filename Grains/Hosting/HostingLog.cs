using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Hosting;

/// <summary>The hosting layer's log lines (storage outages, refused connections), source-generated.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "storage '{Name}' unreachable ({Reason}); retrying the {Operation} of {Grain} for up to {Patience} s")]
    public static partial void StorageUnreachable(ILogger logger, string name, string reason, string operation, GrainId grain, double patience);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "storage '{Name}' reachable again after {Seconds:F1} s ({Operation} of {Grain})")]
    public static partial void StorageBack(ILogger logger, string name, double seconds, string operation, GrainId grain);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "refused a connection from {Remote}: it did not prove the cluster secret")]
    public static partial void ConnectionRefused(ILogger logger, string? remote);
}
