namespace Distributed.Client.Cluster;

/// <summary>The cluster could not be reached; the message is one line meant for the user.</summary>
internal sealed class ClusterUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
