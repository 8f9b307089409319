using Npgsql;
using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Health;

public static class HealthEndpoint
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Readiness: 200 with the applied migration count when the database answers, else 503. <c>events</c> tells
    /// whether live delivery's LISTEN connection is up (<c>listening</c>) or being re-established (<c>reconnecting</c>:
    /// subscribers get what committed meanwhile once it is back).
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", async (NpgsqlDataSource dataSource, EventListener listener, ILoggerFactory loggers,
            CancellationToken aborted) =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            deadline.CancelAfter(Timeout);
            try
            {
                var migrations = await CountMigrationsAsync(dataSource, deadline.Token);
                return Results.Json(new { status = "ok", migrations, events = listener.Listening ? "listening" : "reconnecting" });
            }
            catch (Exception error) when (error is NpgsqlException or OperationCanceledException or TimeoutException)
            {
                loggers.CreateLogger(typeof(HealthEndpoint)).LogWarning("Health check failed: {Message}", error.Message);
                return Results.Json(new { status = "unavailable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
        return endpoints;
    }

    private static async Task<long> CountMigrationsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM public.schema_migrations");
            return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Never migrated (Database:Migrate=false on a fresh database): reachable, with nothing applied.
            return 0;
        }
    }
}
