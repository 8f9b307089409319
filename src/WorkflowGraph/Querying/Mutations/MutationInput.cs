namespace WorkflowGraph.Querying.Mutations;

/// <summary>Reading a mutation's <c>input</c> object.</summary>
public static class MutationInput
{
    /// <summary>An optional input field: absent and null both read as null.</summary>
    public static object? Get(this IDictionary<string, object?> input, string name) =>
        input.TryGetValue(name, out var value) ? value : null;
}
