using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Traces;

/// <summary>Runs, their steps, events and context: where each comes from and the root fields that read them.</summary>
public static class TraceGraph
{
    public static void Register(GraphModel model)
    {
        var trace = new EntityMap
        {
            TypeName = "WorkflowTrace",
            JsonMasks = new Dictionary<string, PhiMask> { ["configSnapshot"] = PhiMask.Config },
            Relation = "workflow_trace",
            Key = ["id"],
            StoredGlobalId = "global_id",
            RunColumn = "id",
            DefaultOrder = [new("start_time", Descending: true)],
            References = new Dictionary<string, string> { ["rootTraceId"] = "WorkflowTrace" },
            Relations =
            [
                new("workflow", "Workflow", RelationKind.One, [("workflow_id", "id")]),
                new("parent", "WorkflowTrace", RelationKind.Optional, [("parent_trace_id", "id")]),
                new("reruns", "WorkflowTrace", RelationKind.Many, [("id", "parent_trace_id")], [new("id", false)]),
                new("steps", "WorkflowStep", RelationKind.Many, [("id", "trace_id")], [new("step_number", false)]),
                new("events", "WorkflowEvent", RelationKind.Many, [("id", "trace_id")]),
                new("context", "WorkflowContextEntry", RelationKind.Many, [("id", "trace_id")]),
            ],
        };
        var step = new EntityMap
        {
            TypeName = "WorkflowStep",
            JsonMasks = new Dictionary<string, PhiMask>
            {
                ["inputData"] = PhiMask.NodeData("node_id", "input"),
                ["outputData"] = PhiMask.NodeData("node_id", "output"),
            },
            Relation = "workflow_steps",
            RunColumn = "trace_id",
            Key = ["id"],
            StoredGlobalId = "global_id",
            DefaultOrder = [new("id", Descending: true)],
            Relations =
            [
                new("trace", "WorkflowTrace", RelationKind.One, [("trace_id", "id")]),
                new("node", "WorkflowNode", RelationKind.One, [("node_id", "id")]),
                new("events", "WorkflowEvent", RelationKind.Many, [("id", "step_id")]),
            ],
        };
        var workflowEvent = new EntityMap
        {
            TypeName = "WorkflowEvent",
            JsonMasks = new Dictionary<string, PhiMask> { ["eventData"] = PhiMask.EventData },
            Relation = "workflow_events",
            RunColumn = "trace_id",
            Key = ["id"],
            Computed = new Dictionary<string, Func<SqlAlias, Sql>> { ["cursor"] = EventPosition.QueriedCursor },
            DefaultOrder = [new("id", Descending: false)],
            Relations =
            [
                new("trace", "WorkflowTrace", RelationKind.One, [("trace_id", "id")]),
                new("step", "WorkflowStep", RelationKind.Optional, [("step_id", "id")]),
            ],
        };
        var context = new EntityMap
        {
            TypeName = "WorkflowContextEntry",
            JsonMasks = new Dictionary<string, PhiMask> { ["value"] = PhiMask.ContextValue("key") },
            Relation = "workflow_trace_context",
            RunColumn = "trace_id",
            Key = ["key"],
            IdentifiedBy = ["trace_id", "key"],
            DefaultOrder = [new("key", Descending: false)],
        };

        model.Entities(trace, step, workflowEvent, context)
            .Connection("traces", trace)
            .Connection("steps", step)
            .Connection("events", workflowEvent)
            .ByKey("trace", trace, "id")
            .ByKey("step", step, "id")
            .Function("workflowContext", context, (field, scope) =>
            {
                // the function's rows lack their run, which their global ids are made of
                var traceId = scope.Parameter(GlobalId.Decode(field.Argument("traceId"), trace), NpgsqlDbType.Bigint);
                return Sql.Of($"(SELECT {traceId}::bigint AS trace_id, c.* FROM get_workflow_context({traceId}, " +
                              $"{scope.Parameter(field.Argument("key"), NpgsqlDbType.Text)}) c)");
            }, list: true);
    }
}
