namespace Distributed.Grains.Messaging.Payloads;

/// <summary>
/// A payload reference names a transfer this grain activation does not hold: its chunks were staged on (or offered by)
/// an activation that is gone, or were already taken. Not damage: the sender repeats the whole exchange with the
/// activation that answers now.
/// </summary>
[GenerateSerializer, Alias("distributed.payload-missing")]
public sealed class PayloadMissingException : Exception
{
    public PayloadMissingException(string message)
        : base(message)
    {
    }
}
