using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// Measures the replica's lag: the primary's current WAL position, then the replica's replay position; caught up is 0,
/// otherwise the time since the last transaction it replayed committed (what a query there misses at most).
/// </summary>
internal sealed class ReplicaLagMonitor(ReadReplica replica, NpgsqlDataSource primary, IConfiguration configuration,
    ILogger<ReplicaLagMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (replica.DataSource is not { } standby)
            return;
        var every = TimeSpan.FromSeconds(Math.Max(0.05, configuration.GetValue("Database:ReplicaLagCheckSeconds", 1.0)));
        using var timer = new PeriodicTimer(every);
        do
        {
            try
            {
                replica.Observe(await MeasureAsync(standby, stoppingToken));
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException or InvalidCastException)
            {
                if (!double.IsInfinity(replica.LagSeconds))
                    logger.LogWarning("The read replica did not answer ({Message}); queries go to the primary", error.Message);
                replica.Observe(double.PositiveInfinity);
            }
        } while (await SafeTickAsync(timer, stoppingToken));
    }

    private async Task<double> MeasureAsync(NpgsqlDataSource standby, CancellationToken cancellationToken)
    {
        await using var position = primary.CreateCommand("SELECT pg_current_wal_lsn()::text");
        var primaryLsn = (string)(await position.ExecuteScalarAsync(cancellationToken))!;
        await using var replay = standby.CreateCommand(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn, " +
            "COALESCE(EXTRACT(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, 'Infinity')");
        replay.Parameters.Add(new NpgsqlParameter { Value = primaryLsn });
        await using var reader = await replay.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (!reader.GetBoolean(0))
            throw new InvalidCastException("the read replica is not a standby (pg_is_in_recovery() is false)");
        return !reader.IsDBNull(1) && reader.GetBoolean(1) ? 0 : reader.GetDouble(2);
    }

    private static async Task<bool> SafeTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
