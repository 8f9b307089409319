namespace WorkflowGraph.Querying.Mutations;

/// <summary>What a mutation returns: the changed object as finished JSON (one per alias), a result, or errors.</summary>
public sealed class MutationPayload
{
    public Dictionary<string, RawJson?> Entities { get; } = new(StringComparer.Ordinal);
    public string? Result { get; set; }
    public IReadOnlyList<MutationError>? Errors { get; set; }
}
