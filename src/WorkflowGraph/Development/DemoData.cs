using Npgsql;
using WorkflowGraph.Database.Migrations;

namespace WorkflowGraph.Development;

/// <summary>Loads db/demo/demo-data.sql into an embedded database that has no organisations yet.</summary>
public static class DemoData
{
    public const string Resource = "demo/demo-data.sql";

    /// <returns>True when the script ran.</returns>
    public static async Task<bool> LoadIfEmptyAsync(string ownerConnectionString, ILogger logger, CancellationToken ct = default)
    {
        var script = EmbeddedSql.ReadOne(Resource);
        if (script is null)
        {
            logger.LogInformation("No demo data compiled in ({Resource} missing); the database stays empty", Resource);
            return false;
        }

        var unpooled = new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(unpooled.ConnectionString);
        await connection.OpenAsync(ct);
        await using (var probe = new NpgsqlCommand("SELECT to_regclass('public.organizations') IS NOT NULL", connection))
        {
            if (!(bool)(await probe.ExecuteScalarAsync(ct))!) return false;
        }
        // The owner is not subject to RLS (it owns the tables, or is the embedded superuser), so this sees every org.
        await using (var any = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM public.organizations)", connection))
        {
            if ((bool)(await any.ExecuteScalarAsync(ct))!) return false;
        }

        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var load = new NpgsqlCommand(script, connection, transaction) { CommandTimeout = 0 })
        {
            await load.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Loaded demo data ({Resource})", Resource);
        return true;
    }
}
