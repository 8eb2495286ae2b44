using Orleans.Runtime.Messaging;

using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// Tells a failed grain call whose callee was unreachable (its silo died or is leaving, the connection broke, no
/// answer came in time) from one the callee itself raised. Only the first kind is worth repeating: once membership
/// declares the silo dead, the same call reaches a new activation elsewhere.
/// </summary>
public static class TransientFaults
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException => true,
        AggregateException { InnerExceptions.Count: 1 } a => IsTransient(a.InnerExceptions[0]),
        _ => false,
    };
}
