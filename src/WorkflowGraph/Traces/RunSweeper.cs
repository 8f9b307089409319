using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Telemetry;

namespace WorkflowGraph.Traces;

/// <summary>
/// Ends runs whose worker went away: every <c>Execution:SweepIntervalSeconds</c> it calls <c>sweep_workflow_runs</c>
/// (db/migrations/026, SECURITY DEFINER) through the owner connection (the service's login when none is configured),
/// batch after batch until a batch comes back short. Several instances may run it: the function's advisory lock lets
/// one sweep while the others return at once.
/// </summary>
public sealed class RunSweeper(DatabaseConnections connections, IConfiguration configuration, ILogger<RunSweeper> logger)
    : BackgroundService
{
    public const int BatchSize = 500;
    private const int MaxBatchesPerSweep = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue("Execution:SweepIntervalSeconds", 15.0);
        if (seconds <= 0)
            return;
        // the first sweep waits one interval, by when startup has applied the migrations
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var ended = await SweepAsync(connections.Owner, stoppingToken);
                if (ended > 0)
                    logger.LogInformation("The sweeper ended {Runs} run(s) whose lease or time limit passed", ended);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // the next tick tries again; nothing is half done (each batch is one transaction)
                logger.LogWarning(e, "The run sweeper could not sweep");
            }
        }
    }

    /// <summary>Sweeps until nothing more is due (or <see cref="MaxBatchesPerSweep"/> batches); the number of runs ended.</summary>
    public static async Task<int> SweepAsync(string ownerConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync(cancellationToken);
        var total = 0;
        for (var batch = 0; batch < MaxBatchesPerSweep; batch++)
        {
            await using var sweep = new NpgsqlCommand(
                "SELECT outcome, count(*)::int FROM sweep_workflow_runs($1) GROUP BY outcome", connection)
            {
                Parameters = { new() { Value = BatchSize } },
            };
            var ended = 0;
            await using (var reader = await sweep.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var runs = reader.GetInt32(1);
                    ended += runs;
                    ServiceTelemetry.SweptRuns.Add(runs, new KeyValuePair<string, object?>("outcome", reader.GetString(0)));
                }
            }
            total += ended;
            if (ended < BatchSize)
                break;
        }
        return total;
    }
}
