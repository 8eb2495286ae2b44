namespace Distributed.Grains.Abstractions.Jobs;

/// <summary>
/// Job ids: 1–64 characters from [A-Za-z0-9._-], so they are safe as grain keys, in shard keys ("job/3"), in file
/// names and on a command line.
/// </summary>
public static class JobId
{
    public const int MaxLength = 64;

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>Throws an <see cref="ArgumentException"/> naming the rule when <paramref name="id"/> is not a job id.</summary>
    public static string Check(string? id) => IsValid(id)
        ? id!
        : throw new ArgumentException($"job id '{id}' is invalid; use 1..{MaxLength} characters from A-Z, a-z, 0-9, '.', '_', '-'.", nameof(id));

    /// <summary>A new id: UTC time to the second plus 6 random hex digits, e.g. <c>20250101-120000-3fa2c1</c>.</summary>
    public static string New(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{Random.Shared.Next(1 << 24):x6}";
    }
}
