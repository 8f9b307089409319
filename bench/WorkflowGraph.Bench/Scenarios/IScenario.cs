namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// One benchmark scenario: measures WorkflowGraph first, then its baselines (direct SQL, and PostGraphile when
/// <see cref="BenchContext.Peer"/> runs), each through <see cref="BenchContext.MeasureAsync"/>. A new scenario is a
/// class in its own file plus one line in Program.cs's scenario list.
/// </summary>
public interface IScenario
{
    /// <summary>The scenario's row label; also what <c>--only</c> matches (case-insensitive substring).</summary>
    string Name { get; }

    ScenarioGoals Goals { get; }

    Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench);
}

/// <summary>
/// What the scenario must reach: WorkflowGraph's throughput relative to direct SQL (at least), to PostGraphile (at
/// least) and to itself with telemetry off (at least), its p99 latency (at most), the service's CPU per operation (at
/// most) and PostgreSQL's CPU per operation (at most PostGraphile's, when <paramref name="PostgresCpuAtMostPeer"/>).
/// Null or false: no such goal.
/// </summary>
public sealed record ScenarioGoals(double? MinOfDirect = null, double? MinTimesPeer = null, double? MaxP99Ms = null,
    double? MinOfTelemetryOff = null, double? MaxP99MsOneClient = null, double? MaxServiceCpuMs = null,
    bool PostgresCpuAtMostPeer = false);
