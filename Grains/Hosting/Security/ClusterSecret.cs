using System.Security.Cryptography;
using System.Text;

namespace Distributed.Grains.Hosting.Security;

/// <summary>
/// The shared secret of a cluster: silos and clients prove they hold it when they connect (<see cref="SecretHandshake"/>)
/// and it is the password of the cluster's Redis. It never crosses the wire: the handshake sends an HMAC of a fresh
/// nonce, and Redis gets it over its own AUTH.
/// </summary>
public static class ClusterSecret
{
    /// <summary>Shorter secrets are guessable; 16 characters of a random token (the local scripts make 64 hex) are not.</summary>
    public const int MinimumLength = 16;

    public const int MaximumLength = 512;

    /// <summary>
    /// The secret from its two sources: the value (environment <c>Distributed__Secret</c>) or the first line of a file;
    /// null when neither is given. Both at once, an unreadable file or an unacceptable secret is a
    /// <see cref="HostOptionsException"/> naming the source.
    /// </summary>
    public static string? Load(string? value, string? file)
    {
        if (value is not null && file is not null)
            throw new HostOptionsException("the cluster secret is given twice (Distributed__Secret and --secret-file); give one.", "secret-file");
        if (file is null) return value;
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HostOptionsException($"secret-file = '{file}': cannot be read ({e.Message.ReplaceLineEndings(" ")}).", "secret-file");
        }
        string secret = text.Split('\n')[0].Trim();
        if (!IsAcceptable(secret, out string? why)) throw new HostOptionsException($"secret-file = '{file}': the secret {why}", "secret-file");
        return secret;
    }

    /// <summary>Printable ASCII without spaces or commas (it goes into a Redis connection), 16..512 characters.</summary>
    public static bool IsAcceptable(string secret, out string? why)
    {
        ArgumentNullException.ThrowIfNull(secret);
        why = secret.Length < MinimumLength ? $"has {secret.Length} characters; allowed {MinimumLength}..{MaximumLength}."
            : secret.Length > MaximumLength ? $"has {secret.Length} characters; allowed {MinimumLength}..{MaximumLength}."
            : secret.Any(c => c <= ' ' || c > '~' || c == ',') ? "may hold only printable ASCII without spaces or commas."
            : null;
        return why is null;
    }

    /// <summary>A fresh random secret (what the local scripts write into their secret file).</summary>
    public static string Generate() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The proof for one challenge: HMAC-SHA256 keyed by the secret over a fixed context and the nonce.</summary>
    internal static byte[] Proof(string secret, ReadOnlySpan<byte> nonce)
    {
        byte[] message = [.. Context, .. nonce];
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }

    private static ReadOnlySpan<byte> Context => "distributed cluster secret v1\n"u8;
}
