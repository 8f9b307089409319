using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying.Plans;

/// <summary>Reads a connection field's arguments and selection into a <see cref="ConnectionPlan"/>, checking each one.</summary>
public sealed class ConnectionPlanner(ShapePlanner shapes, QueryLimits limits)
{
    public ConnectionPlan Plan(EntityMap map, FieldSelection field)
    {
        var first = field.Argument("first") as int?;
        var last = field.Argument("last") as int?;
        var after = field.Argument("after") as string;
        var before = field.Argument("before") as string;
        var size = limits.PageSize(first, last);
        var backwards = last is not null || (before is not null && first is null);
        if (backwards ? after is not null : before is not null)
            throw QueryErrors.InvalidPaging(backwards ? "after cannot be combined with last" : "before needs last instead of first");

        var order = OrderPlanner.Plan(map, field.Argument("order"));
        var where = field.Argument("where") is IDictionary<string, object?> input ? FilterPlanner.Plan(map, input) : null;
        var cursor = backwards ? before : after;
        var from = cursor is null ? null : KeysetCursor.Decode(cursor, KeysetCursor.Signature(order), order);

        // each place the node object is selected gets its own projection: aliases may differ between them
        var projections = new List<NodeProjection>();
        foreach (var child in field.Children)
        {
            if (child.Name == "nodes")
                projections.Add(new NodeProjection($"nodes/{child.ResponseKey}", shapes.Plan(map, child.Children)));
            else if (child.Name == "edges")
                foreach (var node in child.ChildrenNamed("node"))
                    projections.Add(new NodeProjection($"edges/{child.ResponseKey}/{node.ResponseKey}", shapes.Plan(map, node.Children)));
        }
        return new ConnectionPlan(map, where, order, new PageWindow(size, backwards, after is not null, before is not null, from),
            projections,
            SelectsCursor: field.Children.Any(c => c.Name is "pageInfo" or "edges"),
            CountsTotal: field.Children.Any(c => c.Name == "totalCount"));
    }
}
