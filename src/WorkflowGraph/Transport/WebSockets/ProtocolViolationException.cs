namespace WorkflowGraph.Transport.WebSockets;

/// <summary>A message that breaks the protocol: the socket closes with <see cref="Reason"/> (4400 and a sentence).</summary>
public sealed class ProtocolViolationException(string why) : Exception(why)
{
    public CloseReason Reason { get; } = CloseReason.BadRequest(why);
}
