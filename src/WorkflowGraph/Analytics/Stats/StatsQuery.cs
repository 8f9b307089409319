using System.Globalization;
using System.Text.Json;
using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Answers <c>traceStats</c>/<c>stepStats</c>: plan (<see cref="StatsPlanner"/>), one statement (<see cref="StatsSql"/>), a
/// page of groups shaped for each place they are selected (<see cref="StatsProjection"/>), and
/// <c>extensions.stats.&lt;responseKey&gt;</c> saying whether the rollups or the raw rows answered, and why, and how fresh
/// the rollups are (<c>rollupsAsOf</c>).
/// </summary>
public sealed class StatsQuery(StatsPlanner planner, EntityCatalog catalog)
{
    public async Task<object?> ExecuteAsync(IResolveFieldContext context, StatsSubject subject, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var plan = planner.Plan(subject, catalog.Get(subject.EntityType), field);
        var scope = new StatementScope();
        var statement = StatsSql.Emit(plan, scope);
        var (total, nodes, asOf) = await database.QueryAsync(statement.ToString(), scope.Parameters, async (reader, ct) =>
        {
            long total = 0;
            DateTime? asOf = null;
            var nodes = new List<(long Position, string Json)>();
            while (await reader.ReadAsync(ct))
            {
                total = reader.GetInt64(0);
                if (!reader.IsDBNull(1))
                    nodes.Add((reader.GetInt64(1), reader.GetString(2)));
                if (!reader.IsDBNull(3))
                    asOf = reader.GetFieldValue<DateTime>(3);
            }
            return (total, nodes, asOf);
        }, context.CancellationToken);
        Report(context, field.ResponseKey, plan, asOf);
        return Shape(plan, total, nodes);
    }

    private static ConnectionPage Shape(StatsPlan plan, long total, List<(long Position, string Json)> nodes)
    {
        var hasMore = nodes.Count > plan.First;
        if (hasMore)
            nodes.RemoveAt(nodes.Count - 1);
        var cursors = nodes.Select(n => StatsPlanner.EncodeCursor(n.Position)).ToList();
        var rows = new List<RawJson[]>();
        foreach (var (_, json) in nodes)
        {
            using var document = JsonDocument.Parse(json);
            rows.Add(plan.Projections
                .Select(p => new RawJson(StatsProjection.Write(document.RootElement, p.Node.Children, plan.Subject)))
                .ToArray());
        }
        return new ConnectionPage
        {
            Cursors = cursors,
            Rows = rows,
            ProjectionByPath = plan.Projections.Select((p, i) => (p.Path, i)).ToDictionary(p => p.Path, p => p.i),
            PageInfo = new PageInfo(hasMore, plan.After > 0, cursors.FirstOrDefault(), cursors.LastOrDefault()),
            TotalCount = plan.CountsTotal ? total : null,
        };
    }

    /// <param name="asOf">Every change committed before this time is in the rollups (the job's last full pass).</param>
    private static void Report(IResolveFieldContext context, string responseKey, StatsPlan plan, DateTime? asOf)
    {
        var extensions = context.OutputExtensions;
        lock (extensions)
        {
            // root fields resolve in parallel: sorted by response key, so the response does not depend on which came first
            if (!extensions.TryGetValue("stats", out var existing) || existing is not SortedDictionary<string, object?> stats)
                extensions["stats"] = stats = new SortedDictionary<string, object?>(StringComparer.Ordinal);
            stats[responseKey] = plan.FromRollups
                ? new Dictionary<string, object?>
                {
                    ["source"] = "ROLLUPS",
                    ["rollupsAsOf"] = asOf?.ToString("O", CultureInfo.InvariantCulture),
                }
                : new Dictionary<string, object?> { ["source"] = "RAW", ["reason"] = plan.RawReason };
        }
    }
}
