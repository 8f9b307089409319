using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// Keeps monthly workflow_events partitions created ahead of time (ensure_workflow_event_partitions: last month to
/// three months ahead), at startup and then daily, so events keep landing in a partition that retention can drop
/// whole rather than in the default partition.
/// </summary>
public sealed class EventPartitionMaintenance(
    DatabaseConnections connections, IConfiguration configuration, ILogger<EventPartitionMaintenance> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Database:PartitionMaintenanceInterval", TimeSpan.FromDays(1));
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await EnsureAsync(connections.Owner, stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // the next tick tries again; events meanwhile go to the default partition, which nothing loses
                logger.LogWarning(e, "Could not create workflow_events partitions ahead");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static async Task<int> EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var ensure = new NpgsqlCommand("SELECT ensure_workflow_event_partitions()", connection);
        return (int)(await ensure.ExecuteScalarAsync(cancellationToken))!;
    }
}
