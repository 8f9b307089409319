using GraphQL.Resolvers;
using GraphQL.Types;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.SchemaBinding.Scalars;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// Builds the served schema from the SDL and binds every field to its source: root fields to what the features
/// registered, entity fields to their statement's JSON, the connection, mutation and subscription types to theirs.
/// Startup fails when an SDL field has no resolver or a resolver names a field the SDL does not have.
/// </summary>
public static class SchemaBinder
{
    public static ISchema Bind(GraphModel model, string sdlText)
    {
        var sdl = new SdlTypes(sdlText);
        EntityColumns.Map(model.Catalog, sdl);
        model.Catalog.Link();
        VerifyNodes(model, sdl);

        FieldBindings fields = null!;
        ISchema schema = null!;
        schema = ServedSchema.Build(sdlText, builder =>
        {
            fields = new FieldBindings(builder);
            BindQueries(model, fields, sdl);
            BindEntities(model, fields);
            foreach (var type in model.ProjectedTypes)
                foreach (var field in SdlTypes.FieldsOf(sdl.Objects[type]))
                    fields.Bind(type, field.Name.StringValue, ProjectedFieldResolver.Instance);
            ConnectionBindings.Bind(fields, sdl);
            MutationBindings.Bind(model, fields, sdl);
            BindSubscriptions(model, fields);
            // a Node is finished JSON, written as it is; the engine still checks its type, which the resolver named
            if (sdl.Interfaces.Contains(NodeInterface))
                builder.Types.For(NodeInterface).ResolveType = value =>
                    (value as RawJson)?.TypeName is { } name && schema.AllTypes[name] is IObjectGraphType type ? type
                        : throw new InvalidOperationException("a Node value without its type name");
        });
        CustomScalars.Register(schema, sdl);
        fields.Verify(sdl);
        schema.Initialize();
        return schema;
    }

    private const string NodeInterface = "Node";

    /// <summary>The types implementing Node are exactly those with a single-column global id, which node(id:) can fetch.</summary>
    private static void VerifyNodes(GraphModel model, SdlTypes sdl)
    {
        foreach (var map in model.Catalog.Maps)
        {
            var declared = sdl.Objects[map.TypeName].Interfaces?.Items.Any(i => i.Name.StringValue == NodeInterface) ?? false;
            if (declared != map.IdColumn is not null)
                throw new InvalidOperationException(declared
                    ? $"{map.TypeName} implements Node but has no single-column global id"
                    : $"{map.TypeName} has a single-column global id but does not implement Node");
        }
    }

    private static void BindQueries(GraphModel model, FieldBindings fields, SdlTypes sdl)
    {
        var queryFields = SdlTypes.FieldsOf(sdl.Objects["Query"]).ToDictionary(f => f.Name.StringValue);
        foreach (var (name, resolve) in model.QueryFields)
        {
            IFieldResolver resolver = new FuncFieldResolver<object?>(context =>
                new ValueTask<object?>(resolve(context, context.RequestServices!.GetRequiredService<RequestDatabase>())));
            // a field returning entities gets them as finished JSON from its statement
            if (queryFields.TryGetValue(name, out var field)
                && (model.Catalog.Find(SdlTypes.NamedType(field.Type)) is not null || SdlTypes.NamedType(field.Type) == NodeInterface
                    || model.ProjectedTypes.Contains(SdlTypes.NamedType(field.Type))))
                resolver = new RawJsonResolver(resolver);
            fields.Bind("Query", name, resolver);
        }
    }

    /// <summary>An entity's fields are read by its parent's statement; binding them keeps the startup check honest.</summary>
    private static void BindEntities(GraphModel model, FieldBindings fields)
    {
        foreach (var map in model.Catalog.Maps)
        {
            foreach (var column in map.Columns.Values)
                fields.Bind(map.TypeName, column.Field, ProjectedFieldResolver.Instance);
            foreach (var relation in map.Relations)
                fields.Bind(map.TypeName, relation.Field, ProjectedFieldResolver.Instance);
        }
    }

    /// <summary>Each stream carries each event's finished JSON (RawJsonSubscriptionExecutionStrategy writes it as it is).</summary>
    private static void BindSubscriptions(GraphModel model, FieldBindings fields)
    {
        foreach (var (name, stream) in model.SubscriptionFields)
        {
            fields.Builder.Types.For("Subscription").FieldFor(name).StreamResolver =
                new SourceStreamResolver<object?>(context => new ValueTask<IObservable<object?>>(stream(context)));
            fields.Bind("Subscription", name, new RawJsonResolver(new FuncFieldResolver<object?>(context => context.Source)));
        }
    }
}
