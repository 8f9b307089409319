using WorkflowGraph.Querying.Model;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// Runs and steps keep their global ids in a stored generated column (db/migrations/055), which the API writes as
/// their <c>id</c>: it must be exactly what <see cref="GlobalId.Encode"/> makes of the key, for any key the column can
/// hold, and be there for rows written any way (here plain INSERTs, rolled back).
/// </summary>
public sealed class StoredGlobalIdTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly long[] Keys = [1, 9, 10, 99, 12_345, 2_147_483_648, 9_007_199_254_740_993, long.MaxValue];

    [Fact]
    public async Task The_stored_id_of_a_run_and_a_step_is_the_encoded_key_for_keys_up_to_the_largest_bigint()
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecAsync("""
            INSERT INTO organizations (id, name) VALUES ('00000000-0000-4000-8000-00000000a055', 'Stored ids');
            INSERT INTO workflows (id, org_id, name)
            VALUES ('00000000-0000-4000-9000-00000000a055', '00000000-0000-4000-8000-00000000a055', 'Eligibility Check');
            INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type)
            VALUES (55055, '00000000-0000-4000-8000-00000000a055', '00000000-0000-4000-9000-00000000a055', 'fetch', 'action');
            """);
        foreach (var key in Keys)
        {
            await connection.ExecAsync(
                "INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, start_time) " +
                "VALUES ($1, '00000000-0000-4000-8000-00000000a055', '00000000-0000-4000-9000-00000000a055', 'web', 'active', now())",
                key);
            await connection.ExecAsync(
                "INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, start_time) " +
                "VALUES ($1, '00000000-0000-4000-8000-00000000a055', $1, 55055, 1, 'pending', now())", key);
        }

        var traces = await connection.RowsAsync("SELECT id, global_id FROM workflow_trace WHERE id = ANY ($1) ORDER BY id", Keys);
        var steps = await connection.RowsAsync("SELECT id, global_id FROM workflow_steps WHERE id = ANY ($1) ORDER BY id", Keys);

        Assert.Equal(Keys.Select(k => GlobalId.Encode("WorkflowTrace", k.ToString())), traces.Select(r => (string)r["global_id"]!));
        Assert.Equal(Keys.Select(k => GlobalId.Encode("WorkflowStep", k.ToString())), steps.Select(r => (string)r["global_id"]!));
        // and the service reads them back as the same rows
        Assert.All(traces, r => Assert.True(GlobalId.TryParse(r["global_id"], out var type, out var key)
                                             && type == "WorkflowTrace" && key == r["id"]!.ToString()));
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task The_stored_id_cannot_be_written()
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var refused = await connection.FailsAsync("UPDATE workflow_trace SET global_id = 'V29ya2Zsb3dUcmFjZTox' WHERE false");
        Assert.Equal("428C9", refused.SqlState); // generated_always
    }
}
