using Distributed.Compute;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>Exceptions that mean "the user asked for something wrong": one line, exit code 2, no stack trace.</summary>
internal static class UserErrors
{
    public static bool IsUserError(Exception e) => e is SpecException or ImageLoadException or FileNotFoundException or DirectoryNotFoundException
        or UnauthorizedAccessException or InvalidDataException or UserException
        or Grains.Abstractions.Shards.ShardInputException;   // a shard refused an image or the spec (bad input, not a fault)

    /// <summary>
    /// The cluster failed to answer, not the request: a call timed out or was rejected because its target silo is gone.
    /// Transient while membership declares the silo dead and grains move (seconds).
    /// </summary>
    public static bool IsClusterFault(Exception e) => e is TimeoutException or Orleans.Runtime.OrleansMessageRejectionException
        or Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.Messaging.ConnectionFailedException;

    /// <summary>The message's first line, with the exception's type when it is a cluster fault (their messages are terse).</summary>
    public static string Describe(Exception e)
    {
        if (e is SpecException spec) return SpecOptions.Describe(spec);
        string first = e.Message.Split('\n', 2)[0].Trim();
        return IsClusterFault(e) ? $"{e.GetType().Name}: {first}" : first;
    }
}

/// <summary>A problem the user can fix (unknown job, unreachable cluster, …), reported as one line.</summary>
internal sealed class UserException(string message, Exception? inner = null) : Exception(message, inner);
