using GraphQL;
using GraphQL.Resolvers;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// Marks a resolver whose value is already the exact response JSON of its whole subtree: PostgreSQL built it for
/// this selection (response keys, enum names, __typename, nested lists). Executing the subtree field by field
/// would only copy it; the engine writes it as it is.
/// </summary>
public sealed class RawJsonResolver(IFieldResolver inner) : IFieldResolver
{
    public ValueTask<object?> ResolveAsync(IResolveFieldContext context) => inner.ResolveAsync(context);
}
