using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// What the features contribute to the schema: their entity maps and their root fields. The SDL decides which
/// fields exist; this model decides where each one comes from.
/// </summary>
public sealed class GraphModel
{
    public GraphModel(QueryLimits limits)
    {
        Limits = limits;
        var shapes = Shapes = new ShapePlanner(limits);
        Connections = new ConnectionQuery(new ConnectionPlanner(shapes, limits));
        Rows = new RowQuery(shapes);
        Mutator = new MutationRunner(shapes, limits);
        Nodes = new NodeQuery(Catalog, shapes, limits);
    }

    /// <summary>A model with what <paramref name="features"/> register, in their order.</summary>
    public static GraphModel Build(QueryLimits limits, IEnumerable<IGraphFeature> features)
    {
        var model = new GraphModel(limits);
        foreach (var feature in features)
            feature.Register(model);
        model.QueryFields.Add("node", (context, database) => model.Nodes.NodeAsync(context, database));
        model.QueryFields.Add("nodes", (context, database) => model.Nodes.NodesAsync(context, database));
        return model;
    }

    public QueryLimits Limits { get; }
    /// <summary>Plans the object a selection set asks for (also for the event feed's shared selections).</summary>
    public ShapePlanner Shapes { get; }
    public EntityCatalog Catalog { get; } = new();
    public ConnectionQuery Connections { get; }
    public RowQuery Rows { get; }
    public MutationRunner Mutator { get; }
    /// <summary>Objects of any Node type by global id (<c>node</c>, <c>nodes</c>).</summary>
    public NodeQuery Nodes { get; }
    public Dictionary<string, RootResolver> QueryFields { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, MutationSpec> MutationFields { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, StreamResolver> SubscriptionFields { get; } = new(StringComparer.Ordinal);

    /// <summary>Object types that are not entities but arrive as finished JSON from their root field's statement.</summary>
    public HashSet<string> ProjectedTypes { get; } = new(StringComparer.Ordinal);

    /// <summary>A root field answered by <paramref name="resolve"/>.</summary>
    public GraphModel Field(string field, RootResolver resolve)
    {
        QueryFields.Add(field, resolve);
        return this;
    }

    /// <summary>Types whose values are finished JSON written by their parent (see <see cref="ProjectedTypes"/>).</summary>
    public GraphModel Projected(IEnumerable<string> typeNames)
    {
        ProjectedTypes.UnionWith(typeNames);
        return this;
    }

    public GraphModel Subscription(string field, StreamResolver resolve)
    {
        SubscriptionFields.Add(field, resolve);
        return this;
    }

    public GraphModel Mutation(MutationSpec spec)
    {
        MutationFields.Add(spec.Field, spec);
        return this;
    }

    public GraphModel Entities(params EntityMap[] maps)
    {
        foreach (var map in maps)
            Catalog.Add(map);
        return this;
    }

    /// <summary>A cursor connection over all rows of <paramref name="map"/> the tenant may see; with <paramref name="role"/>, only
    /// for callers of that role or above (others get FORBIDDEN before anything is read).</summary>
    public GraphModel Connection(string field, EntityMap map, TenantRole role = TenantRole.None)
    {
        QueryFields.Add(field, async (context, database) =>
        {
            Authorize(field, role, database);
            return await Connections.ExecuteAsync(context, map, database);
        });
        return this;
    }

    /// <summary>One row by its key, or null (also for another organisation's row: RLS hides it); with
    /// <paramref name="role"/>, only for callers of that role or above.</summary>
    public GraphModel ByKey(string field, EntityMap map, string keyColumn, string argument = "id", TenantRole role = TenantRole.None)
    {
        QueryFields.Add(field, async (context, database) =>
        {
            Authorize(field, role, database);
            return await Rows.ByKeyAsync(context, map, keyColumn, argument, database);
        });
        return this;
    }

    private static void Authorize(string field, TenantRole role, RequestDatabase database)
    {
        if (database.Tenant.Role < role)
            throw new ExecutionError($"{field} needs the {role.ToString().ToLowerInvariant()} role") { Code = "FORBIDDEN" };
    }

    /// <summary>Rows of a SQL function whose result has the columns of <paramref name="map"/>.</summary>
    public GraphModel Function(string field, EntityMap map, Func<FieldSelection, StatementScope, Sql> from, bool list)
    {
        QueryFields.Add(field, (context, database) => Rows.FunctionAsync(context, map, from, database, list));
        return this;
    }
}
