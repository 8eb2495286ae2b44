using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Distributed.Grains.Hosting.Security;

/// <summary>
/// Connection middleware that admits only peers holding the cluster secret, run before Orleans sees a byte (the
/// mechanism Orleans' own TLS package plugs into). The accepting side (silo and gateway ports) sends a magic and a
/// fresh 32-byte nonce; the connecting side (a client, or a silo dialling another) answers with
/// <see cref="ClusterSecret.Proof"/>; the acceptor checks it in constant time and answers one byte, accept or refuse,
/// then either hands the connection to Orleans or closes it. A peer that stays silent is dropped after
/// <see cref="Timeout"/>. What it does not do: encrypt (traffic after the handshake is plain TCP; use a private
/// network or a TLS tunnel where the network itself is hostile).
/// </summary>
public static class SecretHandshake
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a refused connection is held open for its refusal to be read.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    private const int NonceBytes = 32;
    private const int ProofBytes = 32;
    private const byte Accepted = 1;
    private const byte Refused = 0;

    private static ReadOnlySpan<byte> Magic => "DSC1"u8;

    /// <summary>The accepting side: checks the proof, refuses and closes on a wrong or missing one.</summary>
    public static IConnectionBuilder UseSecretAcceptor(this IConnectionBuilder builder, string secret)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(secret);
        ILogger logger = builder.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(SecretHandshake).FullName!) ?? NullLogger.Instance;
        return builder.Use(next => async connection =>
        {
            if (!await AcceptAsync(connection, secret, logger)) return;
            await next(connection);
        });
    }

    /// <summary>
    /// The connecting side: answers the acceptor's challenge; a refusal is a <see cref="ClusterSecretRefusedException"/>,
    /// also noted in the <see cref="SecretRefusals"/> service when there is one (Orleans reports a failed connect only
    /// as "unable to connect to any gateway").
    /// </summary>
    public static IConnectionBuilder UseSecretProver(this IConnectionBuilder builder, string secret)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(secret);
        SecretRefusals? refusals = builder.ApplicationServices.GetService<SecretRefusals>();
        return builder.Use(next => async connection =>
        {
            try
            {
                await ProveAsync(connection, secret);
            }
            catch (ClusterSecretRefusedException e)
            {
                refusals?.Note(e.Message);
                throw;
            }
            await next(connection);
        });
    }

    private static async Task<bool> AcceptAsync(ConnectionContext connection, string secret, ILogger logger)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        byte[] nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        bool accepted = false;
        try
        {
            await connection.Transport.Output.WriteAsync((byte[])[.. Magic, .. nonce], timeout.Token);
            byte[] proof = await ReadExactlyAsync(connection.Transport.Input, ProofBytes, timeout.Token);
            accepted = CryptographicOperations.FixedTimeEquals(proof, ClusterSecret.Proof(secret, nonce));
            await connection.Transport.Output.WriteAsync((byte[])[accepted ? Accepted : Refused], timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidDataException or ConnectionResetException)
        {
            // Silent, too slow, or gone mid-handshake: not a cluster member either.
        }
        if (accepted) return true;
        HostingLog.ConnectionRefused(logger, connection.RemoteEndPoint?.ToString());
        // The transport drops unsent bytes when the connection is torn down, so the refusal byte would often never
        // leave: linger until the peer has read it and hung up, for at most Linger.
        await connection.Transport.Output.CompleteAsync();
        await DrainAsync(connection.Transport.Input, Linger);
        return false;
    }

    private static async Task ProveAsync(ConnectionContext connection, string secret)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        string peer = connection.RemoteEndPoint?.ToString() ?? "the silo";
        try
        {
            byte[] challenge = await ReadExactlyAsync(connection.Transport.Input, Magic.Length + NonceBytes, timeout.Token);
            if (!challenge.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new ClusterSecretRefusedException($"{peer} does not ask for a cluster secret (it runs without one, or it is not a silo).");
            await connection.Transport.Output.WriteAsync(ClusterSecret.Proof(secret, challenge.AsSpan(Magic.Length)), timeout.Token);
            byte[] answer = await ReadExactlyAsync(connection.Transport.Input, 1, timeout.Token);
            if (answer[0] != Accepted) throw new ClusterSecretRefusedException($"{peer} refused this process's cluster secret.");
        }
        catch (OperationCanceledException)
        {
            throw new ClusterSecretRefusedException($"{peer} did not complete the cluster-secret handshake within {Timeout.TotalSeconds:F0} s (does it run without a secret?).");
        }
        catch (InvalidDataException)
        {
            throw new ClusterSecretRefusedException($"{peer} closed the connection during the cluster-secret handshake (a wrong secret, or none where one is required).");
        }
    }

    /// <summary>Reads and drops whatever comes until the peer closes, or <paramref name="limit"/> passes.</summary>
    private static async Task DrainAsync(PipeReader reader, TimeSpan limit)
    {
        using var linger = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                ReadResult read = await reader.ReadAsync(linger.Token);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            // Long enough, or gone.
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes, leaving whatever follows for Orleans.</summary>
    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult read = await reader.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.Length >= count)
            {
                byte[] bytes = buffer.Slice(0, count).ToArray();
                reader.AdvanceTo(buffer.GetPosition(count));
                return bytes;
            }
            if (read.IsCompleted || read.IsCanceled)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new InvalidDataException($"the connection ended after {buffer.Length} of {count} handshake bytes.");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}

/// <summary>The last refusal a client's handshake met, for the one line that reports a failed connect.</summary>
public sealed class SecretRefusals
{
    private string? _last;

    public string? Last => Volatile.Read(ref _last);

    public void Note(string reason) => Volatile.Write(ref _last, reason);
}

/// <summary>A silo refused this process's cluster secret (or asked for none while this process holds one).</summary>
public sealed class ClusterSecretRefusedException(string message) : Exception(message);
