namespace WorkflowGraph.Transport.WebSockets;

/// <summary>The protocol above a <see cref="FramedSocket"/>: what becomes of the messages it reads, and of the work
/// in progress once the socket closes.</summary>
public interface IFramedSocketHandler
{
    /// <summary>One whole message, valid until the returned task completes; the next one is read only then, so
    /// messages are handled one at a time, in order.</summary>
    Task HandleAsync(ReadOnlyMemory<byte> message);

    /// <summary>Reading or <see cref="HandleAsync"/> failed with something other than the client going away: the
    /// socket reads no more, and the handler chooses how it closes.</summary>
    void OnReceiveFailed(Exception error);

    /// <summary>The socket is closing, whichever side began: what is queued is dropped right after, and nothing sent
    /// from now on goes out.</summary>
    void OnClosing();
}
