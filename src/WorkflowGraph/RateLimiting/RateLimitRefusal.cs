using System.Globalization;

namespace WorkflowGraph.RateLimiting;

/// <summary>Which limit refused, in words for the client, and when to try again.</summary>
public sealed record RateLimitRefusal(string Limit, string Message, TimeSpan RetryAfter)
{
    public const string Code = "RATE_LIMITED";

    /// <summary>Whole seconds, at least one (what <c>Retry-After</c> carries).</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalSeconds));

    public string RetryAfterHeader => RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
}
