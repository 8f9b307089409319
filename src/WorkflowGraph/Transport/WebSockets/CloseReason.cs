using System.Text;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>
/// Why the server closes a socket: the protocol's 44xx codes, and RFC 6455's own for the transport's limits
/// (1009 message too big, 1013 try again later, 1001 going away).
/// </summary>
public readonly record struct CloseReason(int Code, string Description)
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

    public static CloseReason GoingAway { get; } = new(GoingAwayCode, "Server shutting down");
    public static CloseReason MessageTooBig { get; } = new(MessageTooBigCode, "Message too big");
    public static CloseReason SlowConsumer { get; } = new(TryAgainLaterCode, "Slow consumer: send buffer full");
    public static CloseReason Unauthorized { get; } = new(UnauthorizedCode, "Unauthorized");
    public static CloseReason SubprotocolNotAcceptable { get; } = new(SubprotocolNotAcceptableCode, "Subprotocol not acceptable");
    public static CloseReason InitialisationTimeout { get; } = new(ConnectionInitialisationTimeoutCode, "Connection initialisation timeout");
    public static CloseReason TooManyInitialisationRequests { get; } = new(TooManyInitialisationRequestsCode, "Too many initialisation requests");
    public static CloseReason TokenExpired { get; } = new(ForbiddenCode, "Forbidden: token expired");
    public static CloseReason InternalServerError { get; } = new(InternalServerErrorCode, "Internal server error");

    public static CloseReason BadRequest(string why) => new(BadRequestCode, Limit(why));
    public static CloseReason Forbidden(string why) => new(ForbiddenCode, Limit("Forbidden: " + why));
    public static CloseReason SubscriberAlreadyExists(string id) => new(SubscriberAlreadyExistsCode, Limit($"Subscriber for {id} already exists"));

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
