namespace WorkflowGraph.Transport.WebSockets;

/// <summary>A message that breaks the protocol: the socket closes with 4400 and <paramref name="why"/>.</summary>
public sealed class ProtocolViolationException(string why) : Exception(why);
