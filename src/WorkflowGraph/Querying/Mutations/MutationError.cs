using WorkflowGraph.Database;

namespace WorkflowGraph.Querying.Mutations;

/// <summary>An entry of a payload's <c>errors</c>: <see cref="TypeName"/> is the GraphQL error type.</summary>
public sealed record MutationError(string TypeName, string Message, IReadOnlyList<FieldProblem>? Fields = null)
{
    public const string NotFound = "NotFoundError";
    public const string InvalidState = "InvalidStateError";
    public const string Validation = "ValidationError";
    public const string Duplicate = "DuplicateError";

    /// <summary>The error type of a SQL helper's refusal.</summary>
    public static string TypeOf(HelperError error) => error switch
    {
        HelperError.NotFound => NotFound,
        HelperError.InvalidState => InvalidState,
        HelperError.Validation => Validation,
        _ => Duplicate,
    };
}
