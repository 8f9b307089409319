using GraphQL;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Traces;

/// <summary>Live runs and events: the subscription fields, each a stream from its organisation's live feed.</summary>
public static class TraceSubscriptions
{
    public static void Register(GraphModel model)
    {
        var trace = model.Catalog.Get("WorkflowTrace");
        var workflow = model.Catalog.Get("Workflow");
        model.Subscription("workflowEvents", context =>
        {
            var (feeds, reader, tenant) = Services(context);
            var field = SelectionReader.Read(context);
            EventPosition? after = null;
            if (field.Argument("after") is string cursor && !EventPosition.TryDecode(cursor, out after))
                throw QueryErrors.InvalidCursor("after is not a cursor of a WorkflowEvent");
            var filter = new EventFilter((long?)GlobalId.Decode(field.Argument("traceId"), trace),
                (Guid?)GlobalId.Decode(field.Argument("workflowId"), workflow),
                (field.Argument("eventTypes") as IEnumerable<object?>)?.Cast<string>().ToList());
            return feeds.Stream(tenant.OrgId!.Value, reader.Shape(ShapeKind.Event, field.Children, tenant.PhiRead), filter, null, after);
        });

        model.Subscription("traceUpdated", context =>
        {
            var (feeds, reader, tenant) = Services(context);
            var field = SelectionReader.Read(context);
            var statuses = (field.Argument("statuses") as IEnumerable<object?>)?.Select(s => s!.ToString()!.ToLowerInvariant()).ToList();
            var filter = new EventFilter(null, (Guid?)GlobalId.Decode(field.Argument("workflowId"), workflow), null);
            return feeds.Stream(tenant.OrgId!.Value, reader.Shape(ShapeKind.Trace, field.Children, tenant.PhiRead), filter, statuses, null);
        });
    }

    private static (FeedRegistry Feeds, EventLogReader Reader, RequestTenant Tenant) Services(IResolveFieldContext context)
    {
        var services = context.RequestServices!;
        var tenant = services.GetRequiredService<RequestTenant>();
        if (tenant.OrgId is null)
            throw new ExecutionError("A subscription needs an authenticated connection.") { Code = "UNAUTHENTICATED" };
        return (services.GetRequiredService<FeedRegistry>(), services.GetRequiredService<EventLogReader>(), tenant);
    }
}
