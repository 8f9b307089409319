using System.Text;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// Why the server closes a socket: the protocol's 44xx codes, and RFC 6455's own for the transport's limits
/// (1009 message too big, 1013 try again later, 1001 going away). Each reason the server gives is a named
/// <c>Close…</c> method of the layer that decides it: <see cref="FramedSocket"/> (the transport's limits),
/// <see cref="GraphQLWsConnection"/> (the protocol's rules, shutdown) and <see cref="GraphQLWebSocketMiddleware"/> (4406).
/// </summary>
public readonly record struct CloseReason
{
    public const int NormalClosureCode = 1000;
    public const int GoingAwayCode = 1001;
    public const int MessageTooBigCode = 1009;
    public const int TryAgainLaterCode = 1013;
    public const int BadRequestCode = 4400;
    public const int UnauthorizedCode = 4401;
    public const int ForbiddenCode = 4403;
    public const int SubprotocolNotAcceptableCode = 4406;
    public const int ConnectionInitialisationTimeoutCode = 4408;
    public const int SubscriberAlreadyExistsCode = 4409;
    public const int TooManyInitialisationRequestsCode = 4429;
    public const int InternalServerErrorCode = 4500;

    /// <summary>RFC 6455 allows 123 bytes of UTF-8 in a close frame's reason.</summary>
    private const int MaxDescriptionBytes = 123;

    /// <param name="description">Cut to what a close frame can carry (ending in "..." when cut).</param>
    public CloseReason(int code, string description) => (Code, Description) = (code, Limit(description));

    public int Code { get; }

    public string Description { get; }

    private static string Limit(string description)
    {
        if (Encoding.UTF8.GetByteCount(description) <= MaxDescriptionBytes)
            return description;
        var text = description;
        while (Encoding.UTF8.GetByteCount(text) > MaxDescriptionBytes - 3)
            text = text[..^1];
        return text + "...";
    }
}
