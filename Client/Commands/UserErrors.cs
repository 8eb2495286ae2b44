using Distributed.Compute.Imaging;
using Distributed.Compute.Training;

namespace Distributed.Client.Commands;

/// <summary>Exceptions that mean "the user asked for something wrong": one line, exit code 2, no stack trace.</summary>
internal static class UserErrors
{
    public static bool IsUserError(Exception e) => e is SpecException or ImageLoadException or FileNotFoundException or DirectoryNotFoundException
        or UnauthorizedAccessException or InvalidDataException or UserException;

    public static string Describe(Exception e) => e.Message;
}

/// <summary>A problem the user can fix (unknown job, unreachable cluster, …), reported as one line.</summary>
internal sealed class UserException(string message, Exception? inner = null) : Exception(message, inner);
