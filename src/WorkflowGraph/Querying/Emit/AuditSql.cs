using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying.Emit;

/// <summary>
/// What the PHI access audit needs from a response, read beside its JSON: the classified fields a shape selects are
/// known from the plan (<see cref="ClassifiedFields"/>), and the runs whose rows carried them are an extra column of the
/// same statement (<see cref="RunIds"/>). Only a reader with <c>phi:read</c> needs either: without it every classified
/// value is masked and nothing is audited.
/// </summary>
public static class AuditSql
{
    /// <summary>A column the emit masks (<see cref="ObjectSql"/>): what it shows unmasked is what the audit records.</summary>
    public static bool IsClassified(ColumnMap column) => column.Mask is { } mask && !ReferenceEquals(mask, PhiMask.NotSensitive);

    /// <summary>The classified fields of the shape and of everything nested in it, as <c>Type.field</c> (names, never values).</summary>
    public static IReadOnlySet<string> ClassifiedFields(ObjectShape shape)
    {
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        Collect(shape, fields);
        return fields;
    }

    private static void Collect(ObjectShape shape, ISet<string> fields)
    {
        foreach (var field in shape.Fields)
        {
            if (field is ColumnField { Column: var column } && IsClassified(column))
                fields.Add(shape.Entity.TypeName + "." + column.Field);
            else if (field is RelationField relation)
                Collect(relation.Target, fields);
        }
    }

    /// <summary>
    /// A <c>bigint[]</c> of the runs whose classified values the row aliased <paramref name="alias"/> shows: its own run
    /// when it or a relation within that run (a run's steps, a step's run) shows one, and the runs of related rows of other
    /// runs (re-runs, a parent) read with the same condition, order and limit as the JSON reads them.
    /// </summary>
    public static Sql RunIds(ObjectShape shape, SqlAlias alias, StatementScope scope)
    {
        var parts = Parts(shape, alias, scope);
        return parts.Count == 0 ? Sql.Raw("'{}'::bigint[]") : Sql.Of($"coalesce({Sql.Join(" || ", parts)}, '{{}}'::bigint[])");
    }

    private static List<Sql> Parts(ObjectShape shape, SqlAlias alias, StatementScope scope)
    {
        var entity = shape.Entity;
        var own = shape.Fields.OfType<ColumnField>().Any(f => IsClassified(f.Column));
        var others = new List<Sql>();
        foreach (var field in shape.Fields.OfType<RelationField>())
        {
            if (ClassifiedFields(field.Target).Count == 0)
                continue;
            // rows of the same run that reach no other run add nothing but this row's run
            if (WithinRun(entity, field.Relation) && OwnRunOnly(field.Target))
            {
                own = true;
                continue;
            }
            var target = scope.Alias();
            if (Parts(field.Target, target, scope) is { Count: > 0 } nested)
                others.Add(Related(field, alias, target, Sql.Join(" || ", nested), scope));
        }
        if (own && entity.RunColumn is { } run)
            others.Insert(0, Sql.Of($"ARRAY[{alias.Column(run)}::bigint]"));
        return others;
    }

    /// <summary>The related rows belong to the same run as the row (a run's steps, a step's run).</summary>
    private static bool WithinRun(EntityMap entity, RelationMap relation) =>
        entity.RunColumn is { } run && relation.Target.RunColumn is { } targetRun
        && relation.Join is [var join] && join.Local == run && join.Target == targetRun;

    /// <summary>The shape's runs are at most its own row's (nothing nested reaches another run).</summary>
    private static bool OwnRunOnly(ObjectShape shape) =>
        shape.Entity.RunColumn is not null
        && shape.Fields.OfType<RelationField>().All(r => ClassifiedFields(r.Target).Count == 0
                                                         || (WithinRun(shape.Entity, r.Relation) && OwnRunOnly(r.Target)));

    /// <summary>The runs of a related object, or of a related list's rows as <see cref="ObjectSql"/> reads them.</summary>
    private static Sql Related(RelationField field, SqlAlias alias, SqlAlias target, Sql runs, StatementScope scope)
    {
        var relation = field.Relation;
        var join = relation.JoinCondition(alias, target);
        var from = Sql.Raw(relation.Target.Relation);
        if (field.List is not { } list)
            return Sql.Of($"(SELECT {runs} FROM {from} {target} WHERE {join})");
        var condition = list.Where is null ? Sql.Empty : FilterSql.Condition(list.Where, target, scope);
        var keys = OrderSql.Keys(list.Order, target, scope);
        return Sql.Of($"(SELECT array_agg(u) FROM (SELECT {runs} AS r FROM {from} {target} WHERE {join}{condition.After(" AND ")} " +
                      $"ORDER BY {OrderSql.OrderBy(keys)} LIMIT {list.Limit}) x, unnest(x.r) u)");
    }
}
