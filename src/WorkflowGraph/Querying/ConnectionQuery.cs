using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying;

/// <summary>
/// Answers a connection field with one statement: plan the field (<see cref="ConnectionPlanner"/>), write its SQL
/// (<see cref="ConnectionSql"/>), run it in the request's transaction and shape the page.
/// </summary>
public sealed class ConnectionQuery(ConnectionPlanner planner)
{
    public async Task<ConnectionPage> ExecuteAsync(IResolveFieldContext context, EntityMap map, RequestDatabase database)
    {
        var plan = planner.Plan(map, SelectionReader.Read(context));
        var scope = new StatementScope();
        var (statement, layout) = ConnectionSql.Emit(plan, scope);
        var (total, cursors, rows) = await database.QueryAsync(statement.ToString(), scope.Parameters,
            (reader, ct) => ReadAsync(reader, plan, layout, ct), context.CancellationToken);
        return Shape(plan, total, cursors, rows);
    }

    private static async Task<(long? Total, List<string> Cursors, List<RawJson[]> Rows)> ReadAsync(
        Npgsql.NpgsqlDataReader reader, ConnectionPlan plan, ConnectionSql.Layout layout, CancellationToken ct)
    {
        long? total = null;
        var cursors = new List<string>();
        var rows = new List<RawJson[]>();
        while (await reader.ReadAsync(ct))
        {
            if (layout.Total is { } totalColumn)
                total = reader.GetInt64(totalColumn);
            // with a total, an empty page is one row whose "present" column is null
            if (!plan.ReadsRows || (plan.CountsTotal && reader.IsDBNull(1)))
                continue;
            cursors.Add(layout.Cursor is { } cursorColumn ? KeysetCursor.Encode(plan.Signature, reader.GetString(cursorColumn)) : "");
            var nodes = new RawJson[plan.Projections.Count];
            for (var i = 0; i < nodes.Length; i++)
                nodes[i] = new RawJson(reader.GetString(layout.FirstProjection + i));
            rows.Add(nodes);
        }
        return (total, cursors, rows);
    }

    private static ConnectionPage Shape(ConnectionPlan plan, long? total, List<string> cursors, List<RawJson[]> rows)
    {
        var page = plan.Page;
        var hasMore = rows.Count > page.Size;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
            cursors.RemoveAt(cursors.Count - 1);
        }
        if (page.Backwards)
        {
            rows.Reverse();
            cursors.Reverse();
        }
        var pageInfo = new PageInfo(
            HasNextPage: page.Backwards ? page.HasBefore : hasMore,
            HasPreviousPage: page.Backwards ? hasMore : page.HasAfter,
            StartCursor: cursors.Count > 0 ? cursors[0] : null,
            EndCursor: cursors.Count > 0 ? cursors[^1] : null);
        var paths = plan.Projections.Select((p, i) => (p.Path, i)).ToDictionary(p => p.Path, p => p.i);
        return new ConnectionPage { Cursors = cursors, Rows = rows, ProjectionByPath = paths, PageInfo = pageInfo, TotalCount = total };
    }
}
