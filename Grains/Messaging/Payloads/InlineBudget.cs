using Distributed.Grains.Abstractions.Messaging;

namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// The payload bytes one message may still carry inline. A message with several tensors draws each from the same
/// budget, so their sum stays under the limit; whatever does not fit travels as chunks.
/// </summary>
public sealed class InlineBudget(MessageLimits limits)
{
    public long Remaining { get; private set; } = limits.PayloadBytes;

    public bool TryTake(long bytes)
    {
        if (bytes > Remaining) return false;
        Remaining -= bytes;
        return true;
    }
}
