using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying;

/// <summary>A Relay connection page as read from PostgreSQL: one JSON node per projection and a cursor per row.</summary>
public sealed class ConnectionPage
{
    public required IReadOnlyList<string> Cursors { get; init; }

    /// <summary>Rows × projections: each distinct place the node is selected (nodes, edges.node) has its own projection.</summary>
    public required IReadOnlyList<RawJson[]> Rows { get; init; }

    public required IReadOnlyDictionary<string, int> ProjectionByPath { get; init; }
    public required PageInfo PageInfo { get; init; }
    public long? TotalCount { get; init; }

    public IReadOnlyList<RawJson> Nodes(string path)
    {
        var projection = ProjectionByPath[path];
        return Rows.Select(r => r[projection]).ToList();
    }
}

public sealed record PageInfo(bool HasNextPage, bool HasPreviousPage, string? StartCursor, string? EndCursor);

public sealed record Edge(ConnectionPage Page, int Row, string EdgesKey)
{
    public string Cursor => Page.Cursors[Row];
    public RawJson Node(string nodeKey) => Page.Rows[Row][Page.ProjectionByPath[$"edges/{EdgesKey}/{nodeKey}"]];
}

/// <summary>
/// Answers a connection field with one statement: filter, keyset page (one row more than asked, to know whether
/// there is a next page), projection of exactly the selected fields, and the total only when it is selected.
/// </summary>
public sealed class ConnectionQuery(Projection projection, QueryLimits limits)
{
    public async Task<ConnectionPage> ExecuteAsync(IResolveFieldContext context, EntityMap map, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var first = field.Argument("first") as int?;
        var last = field.Argument("last") as int?;
        var after = field.Argument("after") as string;
        var before = field.Argument("before") as string;
        var size = limits.PageSize(first, last);
        var backwards = last is not null || (before is not null && first is null);
        if (backwards ? after is not null : before is not null)
            throw QueryErrors.InvalidPaging(backwards ? "after cannot be combined with last" : "before needs last instead of first");

        var sql = new SqlBuilder();
        var alias = sql.Alias();
        var keys = SortOrder.Build(map, alias, field.Argument("order"), sql);
        var signature = Cursor.Signature(keys);
        var pageKeys = backwards ? keys.Select(k => k.Reversed()).ToList() : keys;
        var where = field.Argument("where") as IDictionary<string, object?>;
        var conditions = new List<string>();
        if (where is not null)
            conditions.Add(FilterCompiler.Compile(map, alias, where, sql));
        var cursor = backwards ? before : after;
        if (cursor is not null)
            conditions.Add(SortOrder.After(pageKeys, Cursor.Decode(cursor, signature, keys), sql));

        // each place the node object is selected gets its own projection: aliases may differ between them
        var paths = new Dictionary<string, int>();
        var projections = new List<string>();
        foreach (var child in field.Children)
        {
            if (child.Name == "nodes")
                AddProjection(paths, projections, $"nodes/{child.ResponseKey}", projection.Object(map, alias, child.Children, sql));
            else if (child.Name == "edges")
                foreach (var node in child.ChildrenNamed("node"))
                    AddProjection(paths, projections, $"edges/{child.ResponseKey}/{node.ResponseKey}", projection.Object(map, alias, node.Children, sql));
        }
        var selectsCursor = field.Children.Any(c => c.Name == "pageInfo" || c.Name == "edges");
        var columns = selectsCursor ? new List<string> { SortOrder.CursorValuesSql(keys) + " AS c" } : [];
        columns.AddRange(projections.Select((p, i) => $"{p} AS p{i}"));
        var condition = conditions.Where(c => c != "TRUE").ToList();
        var page = $"SELECT {string.Join(", ", columns)} FROM {map.Relation} {alias}" +
                   (condition.Count > 0 ? " WHERE " + string.Join(" AND ", condition) : "") +
                   $" ORDER BY {SortOrder.OrderByClause(pageKeys)} LIMIT {size + 1}";

        var countTotal = field.Children.Any(c => c.Name == "totalCount");
        var readsPage = projections.Count > 0 || selectsCursor;
        var countSql = "";
        if (countTotal)
        {
            var countAlias = sql.Alias();
            var countFilter = where is null ? "TRUE" : FilterCompiler.Compile(map, countAlias, where, sql);
            countSql = $"SELECT count(*) AS total FROM {map.Relation} {countAlias} WHERE {countFilter}";
        }
        // with a total, the page hangs off the count row; "present" tells an empty page from a row
        var statement = (countTotal, readsPage) switch
        {
            (false, _) => page,
            (true, false) => countSql,
            (true, true) => $"SELECT n.total, p.* FROM ({countSql}) n LEFT JOIN LATERAL (SELECT true AS present, q.* FROM ({page}) q) p ON true",
        };

        var (total, cursors, rows) = await database.QueryAsync(statement, sql.Parameters, async (reader, ct) =>
        {
            long? totalCount = null;
            var cursorList = new List<string>();
            var rowList = new List<RawJson[]>();
            var cursorColumn = countTotal ? 2 : 0;
            var firstProjection = cursorColumn + (selectsCursor ? 1 : 0);
            while (await reader.ReadAsync(ct))
            {
                if (countTotal)
                    totalCount = reader.GetInt64(0);
                if (!readsPage || (countTotal && reader.IsDBNull(1)))
                    continue;
                cursorList.Add(selectsCursor ? Cursor.Encode(signature, reader.GetString(cursorColumn)) : "");
                var nodes = new RawJson[projections.Count];
                for (var i = 0; i < projections.Count; i++)
                    nodes[i] = new RawJson(reader.GetString(firstProjection + i));
                rowList.Add(nodes);
            }
            return (totalCount, cursorList, rowList);
        }, context.CancellationToken);

        var hasMore = rows.Count > size;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
            cursors.RemoveAt(cursors.Count - 1);
        }
        if (backwards)
        {
            rows.Reverse();
            cursors.Reverse();
        }
        var pageInfo = new PageInfo(
            HasNextPage: backwards ? before is not null : hasMore,
            HasPreviousPage: backwards ? hasMore : after is not null,
            StartCursor: cursors.Count > 0 ? cursors[0] : null,
            EndCursor: cursors.Count > 0 ? cursors[^1] : null);
        return new ConnectionPage { Cursors = cursors, Rows = rows, ProjectionByPath = paths, PageInfo = pageInfo, TotalCount = total };
    }

    private static void AddProjection(Dictionary<string, int> paths, List<string> projections, string path, string sql)
    {
        paths[path] = projections.Count;
        projections.Add(sql);
    }
}
