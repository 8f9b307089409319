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

        // a run that became claimable: queued (enqueue, re-run, retry) and still PENDING when its event is read
        model.Subscription("workAvailable", context =>
        {
            var (feeds, reader, tenant) = Services(context);
            var field = SelectionReader.Read(context);
            var channels = ((IEnumerable<object?>)field.Argument("channels")!).Select(c => c!.ToString()!.ToLowerInvariant()).ToList();
            var workflowIds = (field.Argument("workflowIds") as IEnumerable<object?>)
                ?.Select(id => (Guid)GlobalId.Decode(id, workflow)!).ToList();
            if (channels.Count is 0 or > 3 || workflowIds?.Count > 100)
                throw new ExecutionError("workAvailable takes 1 to 3 channels and at most 100 workflowIds") { Code = "INVALID_ARGUMENT" };
            var filter = new EventFilter(null, null, ["workflow_enqueued"], workflowIds, channels);
            return feeds.Stream(tenant.OrgId!.Value, reader.Shape(ShapeKind.Trace, field.Children, tenant.PhiRead), filter, ["pending"],
                null);
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
