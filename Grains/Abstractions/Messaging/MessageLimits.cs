namespace Distributed.Grains.Abstractions.Messaging;

/// <summary>
/// The configured message-size limit (Orleans' <c>MessagingOptions.MaxMessageBodySize</c>) as senders see it. An
/// oversized Orleans message tears the connection down and the caller only sees a timeout, so every sender checks its
/// payload bytes against <see cref="PayloadBytes"/> and chunks what is larger.
/// </summary>
public sealed record MessageLimits
{
    /// <summary>Orleans' default body limit, 100 MiB.</summary>
    public const int DefaultMaxMessageBytes = 100 * 1024 * 1024;

    /// <summary>Reserved for everything but the payload: header, ids, shapes, the serializer's framing.</summary>
    public const int EnvelopeBytes = 16 * 1024;

    /// <summary>The smallest limit that leaves a useful payload after the envelope.</summary>
    public const int MinimumMaxMessageBytes = 64 * 1024;

    public MessageLimits(int maxMessageBytes)
    {
        if (maxMessageBytes < MinimumMaxMessageBytes)
            throw new ArgumentOutOfRangeException(nameof(maxMessageBytes), $"max message bytes = {maxMessageBytes}; allowed ≥ {MinimumMaxMessageBytes}.");
        MaxMessageBytes = maxMessageBytes;
    }

    public static MessageLimits Default { get; } = new(DefaultMaxMessageBytes);

    /// <summary>The largest payload a receiver reassembles from chunks (1 GiB): a claim above it is refused outright.</summary>
    public long MaxTransferBytes { get; init; } = 1L << 30;

    /// <summary>What one receiving grain may hold staged at once, over all its pending transfers (2 GiB).</summary>
    public long MaxStagedBytes { get; init; } = 2L << 30;

    /// <summary>The whole message body may not exceed this (the value given to Orleans).</summary>
    public int MaxMessageBytes { get; }

    /// <summary>Payload bytes one message may carry: the limit less <see cref="EnvelopeBytes"/>.</summary>
    public int PayloadBytes => MaxMessageBytes - EnvelopeBytes;

    public bool Fits(long payloadBytes) => payloadBytes <= PayloadBytes;
}
