using Npgsql;
using WorkflowGraph.Analytics.Advice;
using WorkflowGraph.Database;

namespace WorkflowGraph.Analytics.Rollups;

/// <summary>
/// Keeps the statistics rollups up to date: every <c>Analytics:RollupIntervalSeconds</c> it calls
/// <c>refresh_stats_rollups</c> (db/migrations/030, 053, SECURITY DEFINER) through the owner connection, batch after
/// batch of at most <c>Analytics:RollupBatchCells</c> queued changes until a batch comes back short. Writers only record
/// their changes; each pass adds them to the hourly rows (recomputing from the raw rows only the cells a change marked:
/// a duration taken away, a run moved) and then their days. A change is counted once the first pass that
/// starts after its commit has finished: the lag is at most the interval plus one pass. Several instances may run it:
/// the function's advisory lock lets one work while the others return at once. After each pass it evaluates the
/// anomalies of the organisations that subscribed to <c>anomalyDetected</c> here (<see cref="AnomalyAlerts"/>).
/// </summary>
public sealed class StatsRollupJob(
    DatabaseConnections connections, IConfiguration configuration, AnomalyAlerts alerts, ILogger<StatsRollupJob> logger)
    : BackgroundService
{
    public const int DefaultBatchCells = 5000;
    private const int MaxBatchesPerPass = 50;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue("Analytics:RollupIntervalSeconds", 5.0);
        if (seconds <= 0)
            return;
        var batch = Math.Clamp(configuration.GetValue("Analytics:RollupBatchCells", DefaultBatchCells), 1, 100_000);
        // the first pass waits one interval, by when startup has applied the migrations
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync(connections.Owner, batch, wait: false, stoppingToken);
                // anomalyDetected: one evaluation per organisation with subscribers, over what this pass counted
                await alerts.EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // the next tick tries again; nothing is half done (each batch is one transaction, its cells stay dirty)
                logger.LogWarning(e, "The statistics rollups could not be refreshed");
            }
        }
    }

    /// <summary>
    /// One pass: batches until one comes back short (the queue is empty), another instance holds the lock (unless
    /// <paramref name="wait"/>), or <see cref="MaxBatchesPerPass"/> batches. Returns the queued rows taken.
    /// </summary>
    public static async Task<long> RefreshAsync(
        string ownerConnectionString, int batchCells, bool wait, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync(cancellationToken);
        long total = 0;
        for (var round = 0; round < MaxBatchesPerPass; round++)
        {
            await using var refresh = new NpgsqlCommand("SELECT refresh_stats_rollups($1, $2)", connection)
            {
                Parameters = { new() { Value = batchCells }, new() { Value = wait } },
            };
            if (await refresh.ExecuteScalarAsync(cancellationToken) is not int taken)
                break; // another instance is refreshing
            total += taken;
            if (taken < batchCells)
                break;
        }
        return total;
    }
}
