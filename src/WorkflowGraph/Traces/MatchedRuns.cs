using NpgsqlTypes;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Traces;

/// <summary>
/// The runs a <c>traces</c> filter matches, for the requests that freeze them (bulk operations, exports): their ids as
/// an array read with a LIMIT one past <paramref name="MaxRuns"/>, so a filter over millions of runs stops early and the
/// SQL function that records the request refuses one over the bound before it writes anything.
/// </summary>
public sealed record MatchedRuns(Filter Filter, Sql Ids, Sql MaxRuns)
{
    /// <param name="eligible">A further condition on the run (its alias), or null.</param>
    public static MatchedRuns Of(StatementScope scope, EntityMap trace, IDictionary<string, object?> where, int maxRuns,
        Func<SqlAlias, StatementScope, Sql>? eligible = null)
    {
        var filter = FilterPlanner.Plan(trace, where);
        var match = scope.Alias();
        var conditions = new[] { eligible?.Invoke(match, scope) ?? Sql.Empty, FilterSql.Condition(filter, match, scope) };
        var max = scope.Parameter(maxRuns, NpgsqlDbType.Integer);
        var ids = Sql.Of($"ARRAY(SELECT {match.Column("id")} FROM workflow_trace {match}{Sql.And(conditions).After(" WHERE ")} " +
                         $"LIMIT {max} + 1)");
        return new MatchedRuns(filter, ids, max);
    }
}
