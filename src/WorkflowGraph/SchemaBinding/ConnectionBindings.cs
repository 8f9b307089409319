using GraphQL.Resolvers;
using WorkflowGraph.Querying;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// The Relay types every connection shares: <c>*Connection</c>, <c>*Edge</c> and <c>PageInfo</c> over a
/// <see cref="ConnectionPage"/>.
/// </summary>
public static class ConnectionBindings
{
    public static void Bind(FieldBindings fields, SdlTypes sdl)
    {
        foreach (var type in sdl.Objects.Keys.Where(t => t.EndsWith("Connection", StringComparison.Ordinal)))
        {
            fields.Bind<ConnectionPage>(type, "pageInfo", page => page.PageInfo);
            fields.Bind<ConnectionPage>(type, "totalCount", page => (int?)page.TotalCount);
            fields.Bind(type, "nodes", new RawJsonResolver(new FuncFieldResolver<object?>(c =>
                ((ConnectionPage)c.Source!).Nodes("nodes/" + FieldBindings.ResponseKey(c)))));
            fields.Bind(type, "edges", new FuncFieldResolver<object?>(c =>
            {
                var page = (ConnectionPage)c.Source!;
                var key = FieldBindings.ResponseKey(c);
                return Enumerable.Range(0, page.Rows.Count).Select(row => new Edge(page, row, key));
            }));
        }
        foreach (var type in sdl.Objects.Keys.Where(t => t.EndsWith("Edge", StringComparison.Ordinal)))
        {
            fields.Bind<Edge>(type, "cursor", edge => edge.Cursor);
            fields.Bind(type, "node", new RawJsonResolver(new FuncFieldResolver<object?>(c =>
                ((Edge)c.Source!).Node(FieldBindings.ResponseKey(c)))));
        }
        fields.Bind<PageInfo>("PageInfo", "hasNextPage", info => info.HasNextPage);
        fields.Bind<PageInfo>("PageInfo", "hasPreviousPage", info => info.HasPreviousPage);
        fields.Bind<PageInfo>("PageInfo", "startCursor", info => info.StartCursor);
        fields.Bind<PageInfo>("PageInfo", "endCursor", info => info.EndCursor);
    }
}
