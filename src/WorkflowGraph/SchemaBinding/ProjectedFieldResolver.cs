using GraphQL;
using GraphQL.Resolvers;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// The resolver of every field of an entity type: the projection reads it in its parent's statement, and the
/// finished JSON is written as it is, so the engine never resolves these fields one by one. Binding them keeps
/// the startup check (every SDL field has a source) honest.
/// </summary>
public sealed class ProjectedFieldResolver : IFieldResolver
{
    public static readonly ProjectedFieldResolver Instance = new();

    public ValueTask<object?> ResolveAsync(IResolveFieldContext context) =>
        throw new InvalidOperationException($"{context.ParentType.Name}.{context.FieldDefinition.Name} is read by its parent's statement");
}
