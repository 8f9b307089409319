using Npgsql;
using WorkflowGraph.Telemetry;

namespace WorkflowGraph.Database;

/// <summary>
/// The read replica (<c>ConnectionStrings:WorkflowGraphReadReplica</c>), when there is one, and how far behind the
/// primary it is. Queries go to it while its lag is at most <c>Database:MaxReplicaLagSeconds</c> (measured every
/// <c>Database:ReplicaLagCheckSeconds</c>); mutations, requests that ask for the primary and the event feed never do.
/// A replica that does not answer counts as infinitely behind, so reads fall back to the primary.
/// </summary>
public sealed class ReadReplica(NpgsqlDataSource? dataSource, TimeSpan maxLag) : IAsyncDisposable
{
    private double _lagSeconds = double.PositiveInfinity;

    /// <summary>Null: no replica configured.</summary>
    public NpgsqlDataSource? DataSource => dataSource;

    /// <summary>Seconds the replica's replay is behind the primary's WAL (0 when caught up; infinite when unknown).</summary>
    public double LagSeconds => Volatile.Read(ref _lagSeconds);

    /// <summary>The replica, when configured and close enough behind; else null (read from the primary).</summary>
    public NpgsqlDataSource? ForReads => dataSource is not null && LagSeconds <= maxLag.TotalSeconds ? dataSource : null;

    internal void Observe(double lagSeconds)
    {
        Volatile.Write(ref _lagSeconds, lagSeconds);
        // an unreachable replica shows as a very large lag (Prometheus' text format has +Inf, but alerts read better)
        ServiceTelemetry.ReportReplicaLag(double.IsInfinity(lagSeconds) ? 1e9 : lagSeconds);
    }

    public ValueTask DisposeAsync() => dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
