using GraphQL;

namespace WorkflowGraph.RateLimiting;

/// <summary>A refusal as a GraphQL error (code <c>RATE_LIMITED</c>), for transports and streams.</summary>
public sealed class RateLimitedException : ExecutionError
{
    public RateLimitedException(RateLimitRefusal refusal) : base(refusal.Message)
    {
        Code = RateLimitRefusal.Code;
        Extensions = new Dictionary<string, object?> { ["retryAfterSeconds"] = refusal.RetryAfterSeconds };
    }
}
