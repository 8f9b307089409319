using GraphQL;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Traces;

/// <summary>Live runs and events: the subscription fields over the event hub.</summary>
public static class TraceSubscriptions
{
    public static void Register(GraphModel model)
    {
        model.Subscription("workflowEvents", context =>
        {
            var (hub, feed, orgId) = Services(context);
            var field = SelectionReader.Read(context);
            EventPosition? after = null;
            if (field.Argument("after") is string cursor && !EventPosition.TryDecode(cursor, out after))
                throw QueryErrors.InvalidCursor("after is not a cursor of a WorkflowEvent");
            var filter = new EventFilter(field.Argument("traceId") as long?, field.Argument("workflowId") as Guid?,
                (field.Argument("eventTypes") as IEnumerable<object?>)?.Cast<string>().ToList());
            return hub.Stream(orgId, feed.Shape(ShapeKind.Event, field.Children), filter, null, after);
        });

        model.Subscription("traceUpdated", context =>
        {
            var (hub, feed, orgId) = Services(context);
            var field = SelectionReader.Read(context);
            var statuses = (field.Argument("statuses") as IEnumerable<object?>)?.Select(s => s!.ToString()!.ToLowerInvariant()).ToList();
            var filter = new EventFilter(null, field.Argument("workflowId") as Guid?, null);
            return hub.Stream(orgId, feed.Shape(ShapeKind.Trace, field.Children), filter, statuses, null);
        });
    }

    /// <summary>
    /// A queried event's cursor: of what the query's snapshot shows (with its own transaction's writes, for a
    /// mutation's payload: workflow_events_position), the events up to this one in id order count as delivered
    /// (nothing else), so resuming from the last of a run's events read by id replays exactly the rest.
    /// </summary>
    internal static Sql QueriedCursor(SqlAlias alias) =>
        Sql.Raw(EventPosition.CursorSql($"'{EventPosition.Nothing}'", "workflow_events_position()", $"{alias.Name}.id"));

    private static (EventHub Hub, EventFeed Feed, Guid OrgId) Services(IResolveFieldContext context)
    {
        var services = context.RequestServices!;
        var tenant = services.GetRequiredService<RequestTenant>();
        if (tenant.OrgId is not { } orgId)
            throw new ExecutionError("A subscription needs an authenticated connection.") { Code = "UNAUTHENTICATED" };
        return (services.GetRequiredService<EventHub>(), services.GetRequiredService<EventFeed>(), orgId);
    }
}
