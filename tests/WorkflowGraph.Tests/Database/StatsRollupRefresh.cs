using Npgsql;

namespace WorkflowGraph.Tests.Database;

/// <summary>The rollup job's passes, run by a test that must see what it wrote counted (db/migrations/030).</summary>
internal static class StatsRollupRefresh
{
    private const int Batch = 100_000;

    /// <summary>
    /// Passes until the queue of dirty cells is empty; waits for the job's lock if a service is refreshing, so the cells
    /// it took are recomputed too. Inside a transaction it sees (and counts) the transaction's own writes.
    /// </summary>
    public static async Task RefreshStatsRollupsAsync(this NpgsqlConnection conn)
    {
        while (await conn.ScalarAsync<int>("SELECT refresh_stats_rollups($1, true)", Batch) >= Batch)
        {
        }
    }
}
