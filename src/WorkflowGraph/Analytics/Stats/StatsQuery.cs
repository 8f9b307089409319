using System.Globalization;
using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// Answers <c>traceStats</c>/<c>stepStats</c>: plan (<see cref="StatsPlanner"/>), one statement that reads the cells
/// (<see cref="StatsSql"/>), groups merged, measured and ordered in the service (<see cref="StatsGroups"/>), a page of
/// groups shaped for each place they are selected (<see cref="StatsProjection"/>), and
/// <c>extensions.stats.&lt;responseKey&gt;</c> saying whether the rollups or the raw rows answered, and why, and how fresh
/// the rollups are (<c>rollupsAsOf</c>).
/// </summary>
public sealed class StatsQuery(StatsPlanner planner, EntityCatalog catalog, QueryLimits limits)
{
    public async Task<object?> ExecuteAsync(IResolveFieldContext context, StatsSubject subject, RequestDatabase database)
    {
        var field = SelectionReader.Read(context);
        var plan = planner.Plan(subject, catalog.Get(subject.EntityType), field);
        var scope = new StatementScope();
        var statement = StatsSql.Emit(plan, scope);
        var groups = await database.QueryAsync(statement.ToString(), scope.Parameters, async (reader, ct) =>
        {
            var groups = new StatsGroups(plan, limits.MaxStatsGroups);
            while (await reader.ReadAsync(ct))
                groups.Add(reader);
            return groups;
        }, context.CancellationToken);
        Report(context, field.ResponseKey, plan, groups.AsOf);
        return Shape(plan, groups.Ordered());
    }

    private static ConnectionPage Shape(StatsPlan plan, List<StatsGroup> ordered)
    {
        var from = (int)Math.Min(plan.After, ordered.Count);
        var page = ordered.Skip(from).Take(plan.First).ToList();
        var cursors = page.Select((_, i) => StatsPlanner.EncodeCursor(from + i + 1)).ToList();
        var rows = StatsProjection.WritePage(page, plan);
        return new ConnectionPage
        {
            Cursors = cursors,
            Rows = rows,
            ProjectionByPath = plan.Projections.Select((p, i) => (p.Path, i)).ToDictionary(p => p.Path, p => p.i),
            PageInfo = new PageInfo(from + page.Count < ordered.Count, plan.After > 0, cursors.FirstOrDefault(), cursors.LastOrDefault()),
            TotalCount = plan.CountsTotal ? ordered.Count : null,
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
