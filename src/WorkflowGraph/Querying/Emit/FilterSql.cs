using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>
/// Writes a <see cref="Filter"/> as a condition over the row aliased <c>alias</c>. Related rows become correlated
/// EXISTS subqueries, so a filter never multiplies rows. A filter that constrains nothing is <see cref="Sql.Empty"/>.
/// </summary>
public static class FilterSql
{
    public static Sql Condition(Filter filter, SqlAlias alias, StatementScope scope) => filter switch
    {
        AllOf all => Sql.And(all.Parts.Select(p => Condition(p, alias, scope)).ToList()),
        AnyOf any => Sql.Or(any.Parts.Select(p => Condition(p, alias, scope)).ToList()),
        Comparison comparison => Guarded(comparison.Column, Compare(comparison, comparison.Column.ValueOf(alias), scope)),
        PatternMatch match => Guarded(match.Column, Match(match, match.Column.ValueOf(alias), scope)),
        Membership membership => Guarded(membership.Column, Member(membership, membership.Column.ValueOf(alias), scope)),
        RelatedRows related => Exists(related, alias, scope),
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "unknown filter"),
    };

    /// <summary>
    /// A condition on an identifier column the organisation may classify as PHI: the guard (an uncorrelated subquery, so
    /// it runs once, before any row) refuses it without <c>phi:read</c>, so no filter answers for a value the reader
    /// may not see.
    /// </summary>
    private static Sql Guarded(ColumnMap column, Sql condition) =>
        column.GuardedIdentifier is { } identifier ? Sql.Of($"({PhiMask.Guard(identifier)} AND {condition})") : condition;

    private static Sql Compare(Comparison comparison, Sql value, StatementScope scope)
    {
        if (comparison.Value is null && comparison.Operator is ComparisonOperator.Eq or ComparisonOperator.Neq)
            return Sql.Of($"{value} {Sql.Raw(comparison.Operator == ComparisonOperator.Eq ? "IS NULL" : "IS NOT NULL")}");
        var parameter = scope.Parameter(comparison.Value, DbValues.TypeOf(comparison.Column.Kind));
        return comparison.Operator switch
        {
            ComparisonOperator.Eq => Sql.Of($"{value} = {parameter}"),
            ComparisonOperator.Neq => Sql.Of($"{value} <> {parameter}"),
            ComparisonOperator.Gt => Sql.Of($"{value} > {parameter}"),
            ComparisonOperator.Gte => Sql.Of($"{value} >= {parameter}"),
            ComparisonOperator.Lt => Sql.Of($"{value} < {parameter}"),
            ComparisonOperator.Lte => Sql.Of($"{value} <= {parameter}"),
            ComparisonOperator.NotGt => Sql.Of($"NOT ({value} > {parameter})"),
            ComparisonOperator.NotGte => Sql.Of($"NOT ({value} >= {parameter})"),
            ComparisonOperator.NotLt => Sql.Of($"NOT ({value} < {parameter})"),
            ComparisonOperator.NotLte => Sql.Of($"NOT ({value} <= {parameter})"),
            _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison.Operator, "unknown comparison"),
        };
    }

    private static Sql Match(PatternMatch match, Sql value, StatementScope scope)
    {
        var pattern = scope.Parameter(match.Pattern, NpgsqlDbType.Text);
        return match.Operator switch
        {
            PatternOperator.Like => Sql.Of($"{value} LIKE {pattern}"),
            PatternOperator.NotLike => Sql.Of($"{value} NOT LIKE {pattern}"),
            _ => Sql.Of($"{value} ILIKE {pattern}"),
        };
    }

    /// <summary>Null among the values is matched with IS NULL (see <see cref="Membership"/>).</summary>
    private static Sql Member(Membership membership, Sql value, StatementScope scope)
    {
        var values = scope.Parameter(membership.Values, NpgsqlDbType.Array | DbValues.TypeOf(membership.Column.Kind));
        var list = Sql.Of($"{value} = ANY({values})");
        return (membership.Negate, membership.WithNull) switch
        {
            (false, false) => list,
            (false, true) => Sql.Of($"({list} OR {value} IS NULL)"),
            (true, false) => Sql.Of($"NOT ({list})"),
            (true, true) => Sql.Of($"({value} IS NOT NULL AND NOT ({list}))"),
        };
    }

    private static Sql Exists(RelatedRows related, SqlAlias alias, StatementScope scope)
    {
        var relation = related.Relation;
        var target = scope.Alias();
        var condition = Condition(related.Condition, target, scope);
        // every row matches: no row for which the condition is not true (NULL counts as not true)
        if (related.Every)
            condition = Sql.Of($"({condition.OrTrue()}) IS NOT TRUE");
        var exists = Sql.Of(
            $"EXISTS (SELECT 1 FROM {Sql.Raw(relation.Target.Relation)} {target} " +
            $"WHERE {relation.JoinCondition(alias, target)}{condition.After(" AND ")})");
        return related.Negate ? Sql.Of($"NOT {exists}") : exists;
    }
}
