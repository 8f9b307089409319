namespace WorkflowGraph.Querying.Mutations;

/// <summary>One offending input field of a <c>ValidationError</c>.</summary>
public sealed record FieldProblem(string Field, string Message);
