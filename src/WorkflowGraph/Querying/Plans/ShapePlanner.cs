using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying.Plans;

/// <summary>Reads a selection set into an <see cref="ObjectShape"/>, checking each navigation list's arguments.</summary>
public sealed class ShapePlanner(QueryLimits limits)
{
    public ObjectShape Plan(EntityMap map, IEnumerable<FieldSelection> fields)
    {
        var planned = new List<ShapeField>();
        foreach (var field in fields)
        {
            if (field.Name == FieldSelection.Typename)
                planned.Add(new TypenameField(field.ResponseKey));
            else if (map.Columns.TryGetValue(field.Name, out var column))
                planned.Add(new ColumnField(field.ResponseKey, column));
            else if (map.FindRelation(field.Name) is { } relation)
                planned.Add(Relation(relation, field));
            else
                throw new InvalidOperationException($"{map.TypeName}.{field.Name} has no mapping");
        }
        return new ObjectShape(map, planned);
    }

    private RelationField Relation(RelationMap relation, FieldSelection field)
    {
        if (relation.Kind != RelationKind.Many)
            return new RelationField(field.ResponseKey, relation, Plan(relation.Target, field.Children), null);
        var where = field.Argument("where") is IDictionary<string, object?> input ? FilterPlanner.Plan(relation.Target, input) : null;
        var order = OrderPlanner.Plan(relation.Target, field.Argument("order"), relation.Order);
        var limit = limits.NestedListSize(field.Argument("first") as int?);
        return new RelationField(field.ResponseKey, relation, Plan(relation.Target, field.Children), new RelatedList(where, order, limit));
    }
}
