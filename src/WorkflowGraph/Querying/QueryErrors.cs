using GraphQL;
using WorkflowGraph.Database;

namespace WorkflowGraph.Querying;

/// <summary>Errors the engine reports to clients; each has a stable code in <c>extensions.code</c>.</summary>
public static class QueryErrors
{
    public static ExecutionError InvalidFilter(string message) => new(message) { Code = "INVALID_FILTER" };
    public static ExecutionError InvalidCursor(string message) => new(message) { Code = "INVALID_CURSOR" };
    public static ExecutionError InvalidPaging(string message) => new(message) { Code = "INVALID_PAGING_ARGUMENTS" };
    public static ExecutionError PageTooLarge(string argument, int requested, int maximum) =>
        new($"{argument} is {requested}, above the maximum page size of {maximum}") { Code = "PAGE_SIZE_EXCEEDED" };

    /// <summary>A SQL helper's refusal (an unknown run, an illegal transition) with the helper's own message.</summary>
    public static ExecutionError FromHelper(HelperError error, string message) => new(message)
    {
        Code = error switch
        {
            HelperError.NotFound => "NOT_FOUND",
            HelperError.InvalidState => "INVALID_STATE",
            HelperError.Validation => "VALIDATION",
            _ => "DUPLICATE",
        },
    };
}
