namespace Distributed.Compute;

/// <summary>An invalid training spec or input; <see cref="Field"/> names the offending field or flag.</summary>
public sealed class SpecException(string message, string field) : ArgumentException(message)
{
    public string Field { get; } = field;
}
