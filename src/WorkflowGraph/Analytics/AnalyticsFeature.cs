using GraphQL;
using WorkflowGraph.Analytics.Advice;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Analytics;

/// <summary>
/// The six analytics views, each a connection like any table (filter, sort, page), and the grouped statistics
/// (<c>traceStats</c>, <c>stepStats</c>) served from the hourly rollups.
/// </summary>
public sealed class AnalyticsFeature : IGraphFeature
{
    public void Register(GraphModel model)
    {
        var activeConfig = new EntityMap
        {
            TypeName = "ActiveWorkflowConfig",
            JsonMasks = new Dictionary<string, PhiMask> { ["config"] = PhiMask.Config },
            Relation = "v_active_workflow_configs",
            Key = ["id"],
            DefaultOrder = [new("created_at", Descending: true)],
            Relations = [new("workflow", "Workflow", RelationKind.Optional, [("workflow_id", "id")])],
        };
        var summary = new EntityMap
        {
            TypeName = "ExecutionSummary",
            Relation = "v_workflow_execution_summary",
            RunColumn = "trace_id",
            Key = ["trace_id"],
            References = new Dictionary<string, string> { ["workflowId"] = "Workflow" },
            DefaultOrder = [new("start_time", Descending: true)],
            Relations = [new("trace", "WorkflowTrace", RelationKind.One, [("trace_id", "id")])],
        };
        var channelPerformance = new EntityMap
        {
            TypeName = "ChannelPerformance",
            Relation = "v_workflow_channel_performance",
            Key = ["workflow_id", "channel"],
            DefaultOrder = [new("workflow_name", Descending: false)],
            Relations = [new("workflow", "Workflow", RelationKind.One, [("workflow_id", "id")])],
        };
        var nodeStats = new EntityMap
        {
            TypeName = "NodeExecutionStats",
            Relation = "v_node_execution_stats",
            Key = ["node_id"],
            References = new Dictionary<string, string> { ["workflowId"] = "Workflow" },
            DefaultOrder = [new("workflow_name", Descending: false)],
            Relations = [new("node", "WorkflowNode", RelationKind.One, [("node_id", "id")])],
        };
        var timeline = new EntityMap
        {
            TypeName = "ExecutionTimelineEntry",
            JsonMasks = new Dictionary<string, PhiMask> { ["eventData"] = PhiMask.EventData },
            Relation = "v_workflow_execution_timeline",
            RunColumn = "trace_id",
            Key = ["event_id"],
            References = new Dictionary<string, string>
            {
                ["eventId"] = "WorkflowEvent",
                ["traceId"] = "WorkflowTrace",
                ["workflowId"] = "Workflow",
                ["stepId"] = "WorkflowStep",
                ["nodeId"] = "WorkflowNode",
            },
            DefaultOrder = [new("event_id", Descending: false)],
        };
        var failedStep = new EntityMap
        {
            TypeName = "FailedStep",
            JsonMasks = new Dictionary<string, PhiMask>
            {
                ["inputData"] = PhiMask.NodeData("node_id", "input"),
                ["outputData"] = PhiMask.NodeData("node_id", "output"),
            },
            Relation = "v_failed_steps_analysis",
            RunColumn = "trace_id",
            Key = ["step_id"],
            References = new Dictionary<string, string>
            {
                ["traceId"] = "WorkflowTrace",
                ["workflowId"] = "Workflow",
                ["nodeId"] = "WorkflowNode"
            },
            DefaultOrder = [new("step_id", Descending: true)],
            Relations = [new("step", "WorkflowStep", RelationKind.One, [("step_id", "id")])],
        };

        model.Entities(activeConfig, summary, channelPerformance, nodeStats, timeline, failedStep)
            .Connection("activeWorkflowConfigs", activeConfig)
            .Connection("executionSummaries", summary)
            .Connection("channelPerformance", channelPerformance)
            .Connection("nodeExecutionStats", nodeStats)
            .Connection("executionTimeline", timeline)
            .Connection("failedSteps", failedStep);

        // statistics over the hourly rollups (or the raw rows when a filter needs them)
        var stats = new StatsQuery(new StatsPlanner(model.Limits), model.Catalog, model.Limits);
        model.Field("traceStats", (context, database) => stats.ExecuteAsync(context, StatsSubject.Traces, database))
            .Field("stepStats", (context, database) => stats.ExecuteAsync(context, StatsSubject.Steps, database))
            .Projected(StatsSubject.Traces.TypeNames.Concat(StatsSubject.Steps.TypeNames).Append(StatsSubject.DurationsType));

        // explainable advice over the same rollups
        var advice = new ChannelAdviceQuery(model.Limits, TimeProvider.System);
        var anomalies = new AnomaliesQuery(model.Limits, TimeProvider.System);
        model.Field("channelAdvice", advice.ExecuteAsync).Projected([ChannelAdviceQuery.TypeName])
            .Field("anomalies", anomalies.ExecuteAsync).Projected([AnomaliesQuery.TypeName]);

        // the same detection after each pass of the rollup job, delivered to the organisation's subscribers
        model.Subscription("anomalyDetected", context =>
        {
            var services = context.RequestServices!;
            var tenant = services.GetRequiredService<RequestTenant>();
            if (tenant.OrgId is null)
                throw new ExecutionError("A subscription needs an authenticated connection.") { Code = "UNAUTHENTICATED" };
            var field = SelectionReader.Read(context);
            return services.GetRequiredService<AnomalyAlerts>().Stream(tenant.OrgId.Value, field.Children);
        });
    }
}
