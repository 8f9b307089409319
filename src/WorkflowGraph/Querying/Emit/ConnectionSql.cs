using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>
/// Writes a <see cref="ConnectionPlan"/> as one statement: the keyset page (one row more than asked, to know whether
/// there is a next page) with a cursor and the JSON of each projection per row, and the total only when selected.
/// With a total, the page hangs off the count row, and <c>present</c> tells an empty page from a row.
/// </summary>
public static class ConnectionSql
{
    /// <summary>Where the row set's columns are: total (with a count), cursor values (when read), then one row value per projection,
    /// then (when asked) the runs whose classified values the row shows, for the PHI access audit.</summary>
    public sealed record Layout(int? Total, int? Cursor, int FirstProjection)
    {
        public int? Runs { get; init; }
    }

    /// <param name="auditRuns">Also read each row's runs (<see cref="AuditSql.RunIds"/>): the reader sees PHI unmasked.</param>
    public static (Sql Statement, Layout Layout) Emit(ConnectionPlan plan, StatementScope scope, bool auditRuns = false)
    {
        var relation = Sql.Raw(plan.Entity.Relation);
        var alias = scope.Alias();
        var keys = OrderSql.Keys(plan.Order, alias, scope);
        var readKeys = plan.Page.Backwards ? keys.Select(k => k.Reversed()).ToList() : keys;
        var where = plan.Where is null ? Sql.Empty : FilterSql.Condition(plan.Where, alias, scope);
        var after = plan.Page.From is { } from ? OrderSql.After(readKeys, from, scope) : Sql.Empty;

        var columns = new List<Sql>();
        if (plan.SelectsCursor)
            columns.Add(Sql.Of($"{OrderSql.CursorValues(keys)} AS c"));
        for (var i = 0; i < plan.Projections.Count; i++)
            columns.Add(Sql.Of($"{ObjectSql.Record(plan.Projections[i].Shape, alias, scope)} AS {Sql.Raw("p" + i)}"));
        if (auditRuns)
            columns.Add(Sql.Of($"{Sql.Join(" || ", plan.Projections.Select(p => AuditSql.RunIds(p.Shape, alias, scope)))} AS r"));
        var conditions = Sql.Join(" AND ", new[] { where, after }.Where(c => !c.IsEmpty));
        var page = Sql.Of($"SELECT {Sql.Join(", ", columns)} FROM {relation} {alias}{conditions.After(" WHERE ")}" +
                          $" ORDER BY {OrderSql.OrderBy(readKeys)} LIMIT {plan.Page.Size + 1}");
        if (!plan.CountsTotal)
            return (page, Audited(new Layout(null, plan.SelectsCursor ? 0 : null, plan.SelectsCursor ? 1 : 0), plan, auditRuns));

        var countAlias = scope.Alias();
        var countWhere = plan.Where is null ? Sql.Empty : FilterSql.Condition(plan.Where, countAlias, scope);
        var count = Sql.Of($"SELECT count(*) AS total FROM {relation} {countAlias} WHERE {countWhere.OrTrue()}");
        if (!plan.ReadsRows)
            return (count, new Layout(0, null, 1));
        var statement = Sql.Of(
            $"SELECT n.total, p.* FROM ({count}) n LEFT JOIN LATERAL (SELECT true AS present, q.* FROM ({page}) q) p ON true");
        return (statement, Audited(new Layout(0, plan.SelectsCursor ? 2 : null, plan.SelectsCursor ? 3 : 2), plan, auditRuns));
    }

    private static Layout Audited(Layout layout, ConnectionPlan plan, bool auditRuns) =>
        auditRuns ? layout with { Runs = layout.FirstProjection + plan.Projections.Count } : layout;
}
