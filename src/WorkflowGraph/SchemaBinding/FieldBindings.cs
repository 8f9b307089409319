using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Utilities;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// The resolvers given to the schema builder, remembered so that <see cref="Verify"/> can refuse a schema whose SDL
/// and resolvers disagree (GraphQL.NET's schema-first binding would otherwise fail only when a query arrives).
/// </summary>
public sealed class FieldBindings(SchemaBuilder builder)
{
    private readonly HashSet<(string Type, string Field)> _bound = [];

    public SchemaBuilder Builder => builder;

    public void Bind(string type, string field, IFieldResolver resolver)
    {
        builder.Types.For(type).FieldFor(field).Resolver = resolver;
        _bound.Add((type, field));
    }

    /// <summary>A resolver of the value <paramref name="read"/> takes from the parent's object.</summary>
    public void Bind<TSource>(string type, string field, Func<TSource, object?> read) =>
        Bind(type, field, new FuncFieldResolver<object?>(context => read((TSource)context.Source!)));

    /// <summary>The response key of the field being resolved (its alias, or its name).</summary>
    public static string ResponseKey(IResolveFieldContext context) =>
        context.FieldAst.Alias?.Name.StringValue ?? context.FieldAst.Name.StringValue;

    /// <exception cref="InvalidOperationException">An SDL field has no resolver, or a resolver no SDL field.</exception>
    public void Verify(SdlTypes sdl)
    {
        var declared = sdl.Objects.Values
            .SelectMany(t => SdlTypes.FieldsOf(t).Select(f => (Type: t.Name.StringValue, Field: f.Name.StringValue)))
            .ToHashSet();
        var unresolved = declared.Except(_bound).Select(f => $"{f.Type}.{f.Field}").Order().ToList();
        var undeclared = _bound.Except(declared).Select(f => $"{f.Type}.{f.Field}").Order().ToList();
        if (unresolved.Count > 0 || undeclared.Count > 0)
            throw new InvalidOperationException(
                "the schema and its resolvers disagree." +
                (unresolved.Count > 0 ? $" SDL fields without a resolver: {string.Join(", ", unresolved)}." : "") +
                (undeclared.Count > 0 ? $" Resolvers for fields the SDL does not declare: {string.Join(", ", undeclared)}." : ""));
    }
}
