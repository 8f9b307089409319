using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Exports;

/// <summary>
/// The one statement that reads an export's runs (parameter $1: their ids), each with its steps, context and events as
/// JSON, as the requesting tenant. De-identified, every JSON and identifier column passes through <c>phi_deidentify</c>
/// (db/migrations/043) beside the very masking a reader without <c>phi:read</c> gets (<see cref="PhiMask"/>): what the
/// masking would redact becomes the value's pseudonym under the organisation's secret, read once per statement.
/// </summary>
public static class ExportStatement
{
    /// <summary>What an export as stored shows, for its <c>phi_access_audit</c> record.</summary>
    public static IReadOnlyList<string> ClassifiedFields { get; } =
    [
        "WorkflowContextEntry.value", "WorkflowEvent.eventData", "WorkflowStep.errorMessage", "WorkflowStep.inputData",
        "WorkflowStep.outputData", "WorkflowTrace.cancelReason", "WorkflowTrace.configSnapshot", "WorkflowTrace.errorMessage",
        "WorkflowTrace.externalId",
    ];

    public static string Text(bool deidentify)
    {
        var t = SqlAlias.Named("t");
        var s = SqlAlias.Named("s");
        var c = SqlAlias.Named("c");
        var e = SqlAlias.Named("e");
        var pads = Sql.Raw("(SELECT p FROM pads)");

        Sql Json(SqlAlias row, string column, PhiMask mask) => deidentify
            ? Sql.Of($"phi_deidentify({row.Column(column)}, {mask.Masked(row, row.Column(column))}, {pads})")
            : row.Column(column);
        // free text follows the rule of its identifier column (cancel_reason: error_message's, as in event data)
        Sql Text(SqlAlias row, string column, string rule) => deidentify
            ? Sql.Of($"phi_deidentify_text({row.Column(column)}, {PhiMask.Identifier(rule).Masked(row, row.Column(column))}, {pads})")
            : row.Column(column);

        var steps = Sql.Of(
            $"SELECT coalesce(json_agg(json_build_object('id', {s.Column("id")}, 'nodeId', {s.Column("node_id")}, " +
            $"'stepNumber', {s.Column("step_number")}, 'status', {s.Column("status")}, " +
            $"'inputData', {Json(s, "input_data", PhiMask.NodeData("node_id", "input"))}, " +
            $"'outputData', {Json(s, "output_data", PhiMask.NodeData("node_id", "output"))}, " +
            $"'errorMessage', {Text(s, "error_message", "error_message")}, 'retryCount', {s.Column("retry_count")}, " +
            $"'startTime', {s.Column("start_time")}, 'endTime', {s.Column("end_time")}, 'durationMs', {s.Column("duration_ms")}) " +
            $"ORDER BY {s.Column("step_number")}), '[]') FROM workflow_steps {s} WHERE {s.Column("trace_id")} = {t.Column("id")}");
        var context = Sql.Of(
            $"SELECT coalesce(json_agg(json_build_object('key', {c.Column("key")}, " +
            $"'value', {Json(c, "value", PhiMask.ContextValue("key"))}, 'updatedAt', {c.Column("updated_at")}) " +
            $"ORDER BY {c.Column("key")}), '[]') FROM workflow_trace_context {c} WHERE {c.Column("trace_id")} = {t.Column("id")}");
        var events = Sql.Of(
            $"SELECT coalesce(json_agg(json_build_object('id', {e.Column("id")}, 'stepId', {e.Column("step_id")}, " +
            $"'eventType', {e.Column("event_type")}, 'eventData', {Json(e, "event_data", PhiMask.EventData)}, " +
            $"'createdAt', {e.Column("created_at")}) ORDER BY {e.Column("id")}), '[]') " +
            $"FROM workflow_events {e} WHERE {e.Column("trace_id")} = {t.Column("id")}");
        var statement = Sql.Of(
            $"{Sql.Raw(deidentify ? "WITH pads AS MATERIALIZED (SELECT phi_pseudonym_pads() AS p) " : "")}" +
            $"SELECT {t.Column("id")}, {t.Column("workflow_id")}::text, {t.Column("channel")}::text, {t.Column("status")}::text, " +
            $"{Text(t, "external_id", "external_id")}, {Json(t, "config_snapshot", PhiMask.Config)}::text, " +
            $"{t.Column("start_time")}, {t.Column("end_time")}, {t.Column("duration_ms")}, " +
            $"{Text(t, "error_message", "error_message")}, {Text(t, "cancel_reason", "error_message")}, {t.Column("attempt")}, " +
            $"x.steps::text, json_array_length(x.steps), x.context::text, json_array_length(x.context), " +
            $"x.events::text, json_array_length(x.events) " +
            $"FROM workflow_trace {t} CROSS JOIN LATERAL (SELECT ({steps}) AS steps, ({context}) AS context, ({events}) AS events) x " +
            $"WHERE {t.Column("id")} = ANY($1) ORDER BY {t.Column("id")}");
        return statement.ToString();
    }
}
