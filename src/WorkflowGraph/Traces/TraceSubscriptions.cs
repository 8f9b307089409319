using GraphQL;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Telemetry;
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
            var shape = reader.Shape(ShapeKind.Event, field.Children, tenant.PhiRead);
            return feeds.Stream(tenant.OrgId!.Value, shape, filter, null, after, PhiReader(context, tenant, shape));
        });

        model.Subscription("traceUpdated", context =>
        {
            var (feeds, reader, tenant) = Services(context);
            var field = SelectionReader.Read(context);
            var statuses = (field.Argument("statuses") as IEnumerable<object?>)?.Select(s => s!.ToString()!.ToLowerInvariant()).ToList();
            var filter = new EventFilter(null, (Guid?)GlobalId.Decode(field.Argument("workflowId"), workflow), null);
            var shape = reader.Shape(ShapeKind.Trace, field.Children, tenant.PhiRead);
            return feeds.Stream(tenant.OrgId!.Value, shape, filter, statuses, null, PhiReader(context, tenant, shape));
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
            var shape = reader.Shape(ShapeKind.Trace, field.Children, tenant.PhiRead);
            return feeds.Stream(tenant.OrgId!.Value, shape, filter, ["pending"], null, PhiReader(context, tenant, shape));
        });
    }

    /// <summary>Who reads what the subscription shows unmasked, for its PHI access records (one per event delivered).</summary>
    private static PhiAccessReader? PhiReader(IResolveFieldContext context, RequestTenant tenant, FeedShape shape) =>
        shape.AuditedFields.Count == 0 ? null
        : new PhiAccessReader(tenant,
            context.Operation.Name?.StringValue is { Length: > 0 } name ? name[..Math.Min(name.Length, 200)] : null,
            OperationTelemetry.DocumentHash(context.Document.Source.ToString()), [.. shape.AuditedFields]);

    private static (FeedRegistry Feeds, EventLogReader Reader, RequestTenant Tenant) Services(IResolveFieldContext context)
    {
        var services = context.RequestServices!;
        var tenant = services.GetRequiredService<RequestTenant>();
        if (tenant.OrgId is null)
            throw new ExecutionError("A subscription needs an authenticated connection.") { Code = "UNAUTHENTICATED" };
        return (services.GetRequiredService<FeedRegistry>(), services.GetRequiredService<EventLogReader>(), tenant);
    }
}
