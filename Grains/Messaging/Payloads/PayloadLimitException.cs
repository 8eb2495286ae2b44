namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// A sender asked a receiver to take more than its limits allow (one transfer's size, the bytes it may hold staged,
/// a job's upload budget). Refused before anything is allocated for it; the message names the limit.
/// </summary>
[GenerateSerializer, Alias("distributed.payload-limit")]
public sealed class PayloadLimitException : Exception
{
    public PayloadLimitException(string message)
        : base(message)
    {
    }
}
