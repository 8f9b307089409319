namespace WorkflowGraph.Analytics.Stats;

/// <summary>
/// What a statistics field counts: runs or steps, their raw rows, their rollups (hourly and UTC-daily, the same columns;
/// and folded over status, db/migrations/054, with the sets of dimensions they keep) and the names of their types.
/// </summary>
public sealed record StatsSubject(
    string EntityType,
    string GroupType,
    string KeyType,
    string StatusCountType,
    string RollupTable,
    string DailyRollupTable,
    string FoldedRollupTable,
    IReadOnlyList<int> FoldedSets,
    string RollupCount,
    bool HasNodes,
    IReadOnlyList<string> OpenStatuses,
    IReadOnlySet<string> RollupColumns)
{
    public const string DurationsType = "StatsDurations";

    public static readonly StatsSubject Traces = new(
        "WorkflowTrace", "TraceStatsGroup", "TraceStatsKey", "TraceStatusCount", "trace_stats_hourly", "trace_stats_daily",
        "trace_stats_folded", [0, 2, 1, 3], "runs",
        HasNodes: false,
        ["pending", "active"], new HashSet<string>(StringComparer.Ordinal) { "org_id", "workflow_id", "channel", "status" });

    public static readonly StatsSubject Steps = new(
        "WorkflowStep", "StepStatsGroup", "StepStatsKey", "StepStatusCount", "step_stats_hourly", "step_stats_daily",
        "step_stats_folded", [0, 2, 1, 3, 5], "steps",
        HasNodes: true,
        ["pending", "running"], new HashSet<string>(StringComparer.Ordinal) { "org_id", "node_id", "status" });

    /// <summary>Columns of a step's run (the <c>trace</c> relation) that the step rollup carries too.</summary>
    public static readonly IReadOnlySet<string> RunColumnsOfSteps =
        new HashSet<string>(StringComparer.Ordinal) { "workflow_id", "channel" };

    /// <summary>The bits of a folded set (<c>kept</c>): the dimensions it keeps.</summary>
    public const int KeepsWorkflow = 1, KeepsChannel = 2, KeepsNode = 4;

    public IEnumerable<string> TypeNames => [GroupType, KeyType, StatusCountType];
}
