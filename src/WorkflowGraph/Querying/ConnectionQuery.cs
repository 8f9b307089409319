using GraphQL;
using Npgsql;
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
        var phiRead = database.Tenant.PhiRead;
        var variant = FieldStatements.Variant(context, phiRead);
        if (variant is null || !_statements.TryGet(context, variant, out var kept))
        {
            var plan = planner.Plan(map, SelectionReader.Read(context));
            var scope = new StatementScope { PhiRead = phiRead };
            var audited = PhiAudit.Fields(database, plan.ReadsRows ? plan.Projections.Select(p => p.Shape) : []);
            var (statement, layout) = ConnectionSql.Emit(plan, scope, auditRuns: audited.Count > 0);
            // kept parameters are never given to a command, only their copies
            kept = new ConnectionStatement(statement.ToString(), [.. scope.Parameters], plan, layout, audited);
            if (variant is not null)
                _statements.Add(context, variant, kept, FieldStatements.Weight(kept.Sql, variant, kept.Parameters));
        }
        var runs = new List<long[]>();
        var (total, cursors, rows) = await database.QueryAsync(kept.Sql, FieldStatements.Parameters(kept.Parameters),
            (reader, ct) => ReadAsync(reader, kept.Plan, kept.Layout, runs, ct), context.CancellationToken);
        // the row read past the page (to know about a next one) is read last and not shown: its runs are not recorded
        if (rows.Count > 0 && kept.Audited.Count > 0)
            database.PhiAccess.Add(kept.Audited, runs.Take(kept.Plan.Page.Size).SelectMany(r => r));
        return Shape(kept.Plan, total, cursors, rows);
    }

    private readonly FieldStatements<ConnectionStatement> _statements = new();

    /// <summary>Requests whose statement was found kept (<see cref="FieldStatements{T}"/>).</summary>
    public long KeptStatementsUsed => _statements.Hits;

    /// <summary>A connection field's statement as written for one variant (<see cref="FieldStatements{T}"/>).</summary>
    private sealed record ConnectionStatement(string Sql, NpgsqlParameter[] Parameters, ConnectionPlan Plan,
        ConnectionSql.Layout Layout, IReadOnlySet<string> Audited);

    private static async Task<(long? Total, List<string> Cursors, List<RawJson[]> Rows)> ReadAsync(
        Npgsql.NpgsqlDataReader reader, ConnectionPlan plan, ConnectionSql.Layout layout, List<long[]> runs, CancellationToken ct)
    {
        long? total = null;
        // a page is at most its size and the row that tells whether there is a next one
        var capacity = plan.ReadsRows ? Math.Min(plan.Page.Size, 1000) + 1 : 0;
        var cursors = new List<string>(capacity);
        var rows = new List<RawJson[]>(capacity);
        var json = RecordJson.Rent();
        try
        {
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
                    nodes[i] = json.Write(reader, layout.FirstProjection + i, plan.Projections[i].Shape);
                rows.Add(nodes);
                if (layout.Runs is { } runColumn)
                    runs.Add(reader.GetFieldValue<long[]>(runColumn));
            }
        }
        finally
        {
            RecordJson.Return(json);
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
