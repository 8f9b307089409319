namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// What a statistics field counts: runs or steps, their raw rows, their rollups (hourly and UTC-daily, the same columns)
/// and the names of their types.
/// </summary>
public sealed record StatsSubject(
    string EntityType,
    string GroupType,
    string KeyType,
    string StatusCountType,
    string RollupTable,
    string DailyRollupTable,
    string RollupCount,
    bool HasNodes,
    IReadOnlyList<string> OpenStatuses,
    IReadOnlySet<string> RollupColumns)
{
    public const string DurationsType = "StatsDurations";

    public static readonly StatsSubject Traces = new(
        "WorkflowTrace", "TraceStatsGroup", "TraceStatsKey", "TraceStatusCount", "trace_stats_hourly", "trace_stats_daily", "runs",
        HasNodes: false,
        ["pending", "active"], new HashSet<string>(StringComparer.Ordinal) { "org_id", "workflow_id", "channel", "status" });

    public static readonly StatsSubject Steps = new(
        "WorkflowStep", "StepStatsGroup", "StepStatsKey", "StepStatusCount", "step_stats_hourly", "step_stats_daily", "steps",
        HasNodes: true,
        ["pending", "running"], new HashSet<string>(StringComparer.Ordinal) { "org_id", "node_id", "status" });

    /// <summary>Columns of a step's run (the <c>trace</c> relation) that the step rollup carries too.</summary>
    public static readonly IReadOnlySet<string> RunColumnsOfSteps =
        new HashSet<string>(StringComparer.Ordinal) { "workflow_id", "channel" };

    public IEnumerable<string> TypeNames => [GroupType, KeyType, StatusCountType];
}
