using GraphQL;
using GraphQL.Resolvers;
using GraphQL.Types;
using GraphQL.Utilities;
using GraphQLParser;
using GraphQLParser.AST;
using WorkflowGraph.Database;
using WorkflowGraph.Execution;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// Builds the served schema from the SDL and binds every field to its source. Startup fails when an SDL field has
/// no resolver or a resolver names a field the SDL does not have.
/// </summary>
public static class SchemaBinder
{
    private static readonly Dictionary<string, ScalarKind> ScalarKinds = new(StringComparer.Ordinal)
    {
        ["String"] = ScalarKind.String,
        ["ID"] = ScalarKind.String,
        ["Int"] = ScalarKind.Int,
        ["Long"] = ScalarKind.Long,
        ["Float"] = ScalarKind.Float,
        ["Boolean"] = ScalarKind.Boolean,
        ["UUID"] = ScalarKind.Uuid,
        ["DateTime"] = ScalarKind.DateTime,
        ["JSON"] = ScalarKind.Json,
    };

    public static ISchema Bind(GraphModel model, string sdl)
    {
        var document = Parser.Parse(sdl);
        var objectTypes = document.Definitions.OfType<GraphQLObjectTypeDefinition>().ToDictionary(t => t.Name.StringValue);
        var enums = document.Definitions.OfType<GraphQLEnumTypeDefinition>().Select(e => e.Name.StringValue).ToHashSet();
        MapColumns(model.Catalog, objectTypes, enums);
        model.Catalog.Link();

        var bound = new HashSet<(string Type, string Field)>();
        var schema = Schema.For(sdl, builder =>
        {
            void Bind(string type, string field, IFieldResolver resolver)
            {
                builder.Types.For(type).FieldFor(field).Resolver = resolver;
                bound.Add((type, field));
            }

            var queryFields = objectTypes["Query"].Fields?.Items.ToDictionary(f => f.Name.StringValue) ?? [];
            foreach (var (name, resolve) in model.QueryFields)
            {
                IFieldResolver resolver = new FuncFieldResolver<object?>(context =>
                    new ValueTask<object?>(resolve(context, context.RequestServices!.GetRequiredService<RequestDatabase>())));
                // a field returning entities gets them as finished JSON from its statement
                if (queryFields.TryGetValue(name, out var field) && model.Catalog.Find(NamedType(field.Type)) is not null)
                    resolver = new RawJsonResolver(resolver);
                Bind("Query", name, resolver);
            }

            foreach (var map in model.Catalog.Maps)
            {
                foreach (var column in map.Columns.Values)
                    Bind(map.TypeName, column.Field, ProjectedFieldResolver.Instance);
                foreach (var relation in map.Relations)
                    Bind(map.TypeName, relation.Field, ProjectedFieldResolver.Instance);
            }

            foreach (var type in objectTypes.Keys.Where(t => t.EndsWith("Connection", StringComparison.Ordinal)))
            {
                Bind(type, "pageInfo", new FuncFieldResolver<object?>(c => ((ConnectionPage)c.Source!).PageInfo));
                Bind(type, "totalCount", new FuncFieldResolver<object?>(c => (int?)((ConnectionPage)c.Source!).TotalCount));
                Bind(type, "nodes", new RawJsonResolver(new FuncFieldResolver<object?>(c => ((ConnectionPage)c.Source!).Nodes("nodes/" + ResponseKey(c)))));
                Bind(type, "edges", new FuncFieldResolver<object?>(c =>
                {
                    var page = (ConnectionPage)c.Source!;
                    var key = ResponseKey(c);
                    return Enumerable.Range(0, page.Rows.Count).Select(row => new Edge(page, row, key));
                }));
            }
            foreach (var type in objectTypes.Keys.Where(t => t.EndsWith("Edge", StringComparison.Ordinal)))
            {
                Bind(type, "cursor", new FuncFieldResolver<object?>(c => ((Edge)c.Source!).Cursor));
                Bind(type, "node", new RawJsonResolver(new FuncFieldResolver<object?>(c => ((Edge)c.Source!).Node(ResponseKey(c)))));
            }
            BindMutations(model, objectTypes, document, builder, Bind);
            foreach (var (name, stream) in model.SubscriptionFields)
            {
                // the stream carries each event's finished JSON (RawJsonSubscriptionExecutionStrategy writes it as it is)
                builder.Types.For("Subscription").FieldFor(name).StreamResolver =
                    new SourceStreamResolver<object?>(context => new ValueTask<IObservable<object?>>(stream(context)));
                Bind("Subscription", name, new RawJsonResolver(new FuncFieldResolver<object?>(context => context.Source)));
            }

            Bind("PageInfo", "hasNextPage", new FuncFieldResolver<object?>(c => ((PageInfo)c.Source!).HasNextPage));
            Bind("PageInfo", "hasPreviousPage", new FuncFieldResolver<object?>(c => ((PageInfo)c.Source!).HasPreviousPage));
            Bind("PageInfo", "startCursor", new FuncFieldResolver<object?>(c => ((PageInfo)c.Source!).StartCursor));
            Bind("PageInfo", "endCursor", new FuncFieldResolver<object?>(c => ((PageInfo)c.Source!).EndCursor));
        });
        // custom scalars replace the SDL's declarations, so they carry the SDL's descriptions
        var scalarDescriptions = document.Definitions.OfType<GraphQLScalarTypeDefinition>()
            .ToDictionary(d => d.Name.StringValue, d => d.Description?.Value.ToString());
        foreach (var scalar in new ScalarGraphType[] { new UuidGraphType(), new DateTimeOffsetGraphType(), new JsonGraphType(), new LongGraphType() })
        {
            scalar.Description = scalarDescriptions.GetValueOrDefault(scalar.Name);
            schema.RegisterType(scalar);
        }

        VerifyBindings(objectTypes, bound);
        schema.Initialize();
        return schema;
    }

    /// <summary>Mutation fields, their payloads (object, result figures, errors) and the error types of the unions.</summary>
    private static void BindMutations(GraphModel model, Dictionary<string, GraphQLObjectTypeDefinition> objectTypes, GraphQLDocument document,
        SchemaBuilder builder, Action<string, string, IFieldResolver> bind)
    {
        if (!objectTypes.TryGetValue("Mutation", out var mutation))
            return;
        var unions = document.Definitions.OfType<GraphQLUnionTypeDefinition>()
            .ToDictionary(u => u.Name.StringValue, u => (IReadOnlyCollection<string>)(u.Types?.Items.Select(t => t.Name.StringValue).ToList() ?? []));
        foreach (var field in mutation.Fields?.Items ?? [])
        {
            var name = field.Name.StringValue;
            if (!model.MutationFields.TryGetValue(name, out var spec))
                continue; // reported as unbound by VerifyBindings
            var payloadType = objectTypes[NamedType(field.Type)];
            var errorsField = payloadType.Fields?.Items.FirstOrDefault(f => f.Name.StringValue == "errors");
            var allowed = errorsField is null ? [] : unions.GetValueOrDefault(NamedType(errorsField.Type)) ?? [];
            bind("Mutation", name, new FuncFieldResolver<object?>(context =>
                new ValueTask<object?>(model.Mutator.ExecuteAsync(context, spec, context.RequestServices!.GetRequiredService<RequestDatabase>(), allowed))));
            foreach (var payloadField in payloadType.Fields?.Items ?? [])
            {
                var fieldName = payloadField.Name.StringValue;
                IFieldResolver resolver = fieldName switch
                {
                    "errors" => new FuncFieldResolver<object?>(c => ((MutationPayload)c.Source!).Errors),
                    _ when fieldName == spec.PayloadField =>
                        new RawJsonResolver(new FuncFieldResolver<object?>(c => ((MutationPayload)c.Source!).Entities.GetValueOrDefault(ResponseKey(c)))),
                    _ => new FuncFieldResolver<object?>(c => PayloadResult((MutationPayload)c.Source!, fieldName)),
                };
                bind(payloadType.Name.StringValue, fieldName, resolver);
            }
        }
        foreach (var errorType in unions.Values.SelectMany(u => u).Distinct())
        {
            builder.Types.For(errorType).IsTypeOfFunc = value => value is MutationError error && error.TypeName == errorType;
            bind(errorType, "message", new FuncFieldResolver<object?>(c => ((MutationError)c.Source!).Message));
            if (objectTypes[errorType].Fields?.Items.Any(f => f.Name.StringValue == "fields") == true)
                bind(errorType, "fields", new FuncFieldResolver<object?>(c => ((MutationError)c.Source!).Fields ?? []));
        }
        if (objectTypes.ContainsKey("FieldError"))
        {
            bind("FieldError", "field", new FuncFieldResolver<object?>(c => ((FieldProblem)c.Source!).Field));
            bind("FieldError", "message", new FuncFieldResolver<object?>(c => ((FieldProblem)c.Source!).Message));
        }
    }

    /// <summary>A payload figure: the key a delete reported, or a column of the row a function returned.</summary>
    private static object? PayloadResult(MutationPayload payload, string field)
    {
        if (payload.Errors is not null || payload.Result is null)
            return null;
        if (field == "deletedId")
            return payload.Result;
        using var document = System.Text.Json.JsonDocument.Parse(payload.Result);
        if (!document.RootElement.TryGetProperty(EntityMap.ColumnNameFor(field), out var value))
            return null;
        return value.ValueKind switch
        {
            System.Text.Json.JsonValueKind.Number => value.GetInt64(),
            System.Text.Json.JsonValueKind.Array => value.EnumerateArray().Select(v => v.GetString()).ToList(),
            System.Text.Json.JsonValueKind.Null => null,
            _ => value.ToString(),
        };
    }

    private static string ResponseKey(IResolveFieldContext context) =>
        context.FieldAst.Alias?.Name.StringValue ?? context.FieldAst.Name.StringValue;

    /// <summary>Every scalar field of a mapped type reads the column of the same (snake_case) name.</summary>
    private static void MapColumns(EntityCatalog catalog, Dictionary<string, GraphQLObjectTypeDefinition> objectTypes, HashSet<string> enums)
    {
        foreach (var map in catalog.Maps)
        {
            if (!objectTypes.TryGetValue(map.TypeName, out var definition))
                throw new InvalidOperationException($"the SDL has no type {map.TypeName} for relation {map.Relation}");
            foreach (var field in definition.Fields?.Items ?? [])
            {
                var name = field.Name.StringValue;
                if (map.FindRelation(name) is not null)
                    continue;
                var typeName = NamedType(field.Type);
                ScalarKind kind;
                if (enums.Contains(typeName))
                    kind = ScalarKind.Enum;
                else if (!ScalarKinds.TryGetValue(typeName, out kind))
                    throw new InvalidOperationException($"{map.TypeName}.{name} is of type {typeName} but no relation is mapped for it");
                var column = EntityMap.ColumnNameFor(name);
                map.Columns[name] = new ColumnMap(name, column, kind, field.Type is not GraphQLNonNullType) { Expression = map.Computed.GetValueOrDefault(name) };
            }
        }
    }

    private static string NamedType(GraphQLType type) => type switch
    {
        GraphQLNonNullType n => NamedType(n.Type),
        GraphQLListType l => NamedType(l.Type),
        GraphQLNamedType n => n.Name.StringValue,
        _ => throw new InvalidOperationException("unknown type node"),
    };

    private static void VerifyBindings(Dictionary<string, GraphQLObjectTypeDefinition> objectTypes, HashSet<(string Type, string Field)> bound)
    {
        var declared = objectTypes.Values
            .SelectMany(t => (t.Fields?.Items ?? []).Select(f => (Type: t.Name.StringValue, Field: f.Name.StringValue)))
            .ToHashSet();
        var unresolved = declared.Except(bound).Select(f => $"{f.Type}.{f.Field}").Order().ToList();
        var undeclared = bound.Except(declared).Select(f => $"{f.Type}.{f.Field}").Order().ToList();
        if (unresolved.Count > 0 || undeclared.Count > 0)
            throw new InvalidOperationException(
                "the schema and its resolvers disagree." +
                (unresolved.Count > 0 ? $" SDL fields without a resolver: {string.Join(", ", unresolved)}." : "") +
                (undeclared.Count > 0 ? $" Resolvers for fields the SDL does not declare: {string.Join(", ", undeclared)}." : ""));
    }
}
