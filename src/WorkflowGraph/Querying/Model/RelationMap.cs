using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>
/// A navigation field: the target rows whose <c>Target</c> columns equal this row's <c>Local</c> columns. A list
/// relation may order its rows its own way (a run's steps by step number) instead of the target's default.
/// </summary>
public sealed record RelationMap(string Field, string TargetType, RelationKind Kind, IReadOnlyList<(string Local, string Target)> Join,
    IReadOnlyList<OrderKey>? Order = null)
{
    /// <summary>Set when the catalog is linked at startup.</summary>
    public EntityMap Target { get; internal set; } = null!;

    /// <summary>The condition joining a target row aliased <paramref name="target"/> to its source row.</summary>
    public Sql JoinCondition(SqlAlias source, SqlAlias target) =>
        Sql.Join(" AND ", Join.Select(j => Sql.Of($"{target.Column(j.Target)} = {source.Column(j.Local)}")));
}
