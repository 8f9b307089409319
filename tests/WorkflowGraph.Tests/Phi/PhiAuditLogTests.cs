using Npgsql;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// phi_access_audit in SQL: the service role appends and reads its organisation's records and can neither change nor
/// delete them; the per-organisation hash chain shows any change made past the service (an owner, a superuser).
/// Each test runs in a transaction that is rolled back, in organisations of its own.
/// </summary>
public sealed class PhiAuditLogTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Append =
        "INSERT INTO phi_access_audit (user_id, role, operation_name, document_hash, trace_ids, fields) " +
        "VALUES ($1, 'viewer', 'TraceDetail', repeat('ab', 32), ARRAY[$2::bigint], ARRAY['WorkflowStep.inputData'])";

    private static async Task<Guid> OrganisationAsync(NpgsqlConnection conn) =>
        await conn.ScalarAsync<Guid>("INSERT INTO organizations (name) VALUES ($1) RETURNING id", "audit " + Guid.NewGuid().ToString("N"));

    private static async Task<T> ScalarAsync<T>(TenantSession session, string sql, params object?[] args)
    {
        await using var command = session.CreateCommand(sql);
        foreach (var arg in args)
            command.Parameters.Add(new NpgsqlParameter { Value = arg ?? DBNull.Value });
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task AppendAsync(TenantSession session, Guid user, long trace)
    {
        await using var command = session.CreateCommand(Append);
        command.Parameters.Add(new NpgsqlParameter { Value = user });
        command.Parameters.Add(new NpgsqlParameter { Value = trace });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string?> FailureAsync(TenantSession session, string sql)
    {
        await using (var savepoint = session.CreateCommand("SAVEPOINT attempt"))
            await savepoint.ExecuteNonQueryAsync();
        try
        {
            await using var command = session.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException e)
        {
            await using var rollback = session.CreateCommand("ROLLBACK TO SAVEPOINT attempt");
            await rollback.ExecuteNonQueryAsync();
            return e.SqlState;
        }
    }

    [Fact]
    public async Task The_service_appends_a_chain_it_can_neither_change_nor_delete()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var org = await OrganisationAsync(session.Connection);
        var user = Guid.NewGuid();
        await session.BecomeTenantAsync(org, user);
        for (var trace = 1; trace <= 3; trace++)
            await AppendAsync(session, user, trace);

        Assert.Equal(3L, await ScalarAsync<long>(session, "SELECT max(seq) FROM phi_access_audit"));
        Assert.Equal(DBNull.Value, await ScalarAsync<object>(session, "SELECT verify_phi_access_audit($1)", org));
        Assert.Equal("42501", await FailureAsync(session, "UPDATE phi_access_audit SET fields = ARRAY['x'] WHERE seq = 2"));
        Assert.Equal("42501", await FailureAsync(session, "DELETE FROM phi_access_audit WHERE seq = 2"));
        Assert.Equal("42501", await FailureAsync(session, "TRUNCATE phi_access_audit"));
        Assert.Equal("42501", await FailureAsync(session, "DELETE FROM phi_access_audit_default"));
        // the chain's head moves with the trigger alone: the service reads its organisation's and cannot change it
        Assert.Equal(3L, await ScalarAsync<long>(session, "SELECT seq FROM phi_access_audit_heads"));
        Assert.Equal("42501", await FailureAsync(session, "UPDATE phi_access_audit_heads SET seq = 0"));
        Assert.Equal("42501", await FailureAsync(session, "DELETE FROM phi_access_audit_heads"));
        Assert.Equal("42501", await FailureAsync(session, $"INSERT INTO phi_access_audit_heads VALUES ('{org}', 9, '\\x')"));
        // a record cannot claim another organisation, nor forge its place in the chain
        Assert.Equal("42501", await FailureAsync(session,
            "INSERT INTO phi_access_audit (org_id, role, document_hash, fields) " +
            $"VALUES ('{Guid.NewGuid()}', 'viewer', repeat('ab', 32), '{{f}}')"));
        await AppendAsync(session, user, 4);
        Assert.Equal(4L, await ScalarAsync<long>(session, "SELECT count(*) FROM phi_access_audit"));
    }

    [Fact]
    public async Task A_change_or_a_deletion_made_past_the_service_is_detected_by_the_chain_check()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var org = await OrganisationAsync(session.Connection);
        var other = await OrganisationAsync(session.Connection);
        var user = Guid.NewGuid();
        await session.BecomeTenantAsync(other, user);
        await AppendAsync(session, user, 99);
        await session.BecomeTenantAsync(org, user);
        for (var trace = 1; trace <= 4; trace++)
            await AppendAsync(session, user, trace);
        // another organisation's records are not this tenant's to see
        Assert.Equal(4L, await ScalarAsync<long>(session, "SELECT count(*) FROM phi_access_audit"));

        await session.BecomeOwnerAsync();
        await using (var savepoint = session.CreateCommand("SAVEPOINT untouched"))
            await savepoint.ExecuteNonQueryAsync();
        await using (var tamper = session.CreateCommand(
                         "UPDATE phi_access_audit SET trace_ids = ARRAY[7::bigint] WHERE org_id = $1 AND seq = 2"))
        {
            tamper.Parameters.Add(new NpgsqlParameter { Value = org });
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }
        Assert.Equal(2L, await ScalarAsync<long>(session, "SELECT verify_phi_access_audit($1)", org));
        Assert.Equal(DBNull.Value, await ScalarAsync<object>(session, "SELECT verify_phi_access_audit($1)", other));

        await using (var back = session.CreateCommand("ROLLBACK TO SAVEPOINT untouched"))
            await back.ExecuteNonQueryAsync();
        Assert.Equal(DBNull.Value, await ScalarAsync<object>(session, "SELECT verify_phi_access_audit($1)", org));
        await using (var remove = session.CreateCommand("DELETE FROM phi_access_audit WHERE org_id = $1 AND seq = 3"))
        {
            remove.Parameters.Add(new NpgsqlParameter { Value = org });
            Assert.Equal(1, await remove.ExecuteNonQueryAsync());
        }
        Assert.Equal(4L, await ScalarAsync<long>(session, "SELECT verify_phi_access_audit($1)", org));

        // records removed from the end leave the chain itself whole; the head still shows the first one missing
        await using (var back = session.CreateCommand("ROLLBACK TO SAVEPOINT untouched"))
            await back.ExecuteNonQueryAsync();
        await using (var truncateEnd = session.CreateCommand("DELETE FROM phi_access_audit WHERE org_id = $1 AND seq >= 3"))
        {
            truncateEnd.Parameters.Add(new NpgsqlParameter { Value = org });
            Assert.Equal(2, await truncateEnd.ExecuteNonQueryAsync());
        }
        Assert.Equal(3L, await ScalarAsync<long>(session, "SELECT verify_phi_access_audit($1)", org));
        Assert.Equal(DBNull.Value, await ScalarAsync<object>(session, "SELECT verify_phi_access_audit($1)", other));
    }

    [Fact]
    public async Task Each_organisations_first_record_starts_its_own_chain_at_one_however_many_others_exist()
    {
        await using var session = await db.OpenAsOwnerAsync();
        var first = await OrganisationAsync(session.Connection);
        var second = await OrganisationAsync(session.Connection);
        var user = Guid.NewGuid();
        await session.BecomeTenantAsync(first, user);
        for (var trace = 1; trace <= 3; trace++)
            await AppendAsync(session, user, trace);
        await session.BecomeTenantAsync(second, user);
        await AppendAsync(session, user, 10);
        Assert.Equal(1L, await ScalarAsync<long>(session, "SELECT seq FROM phi_access_audit"));
        Assert.Equal(0, await ScalarAsync<int>(session, "SELECT length(prev_hash) FROM phi_access_audit"));

        await session.BecomeOwnerAsync();
        foreach (var org in new[] { first, second })
            Assert.Equal(DBNull.Value, await ScalarAsync<object>(session, "SELECT verify_phi_access_audit($1)", org));
        Assert.Equal(3L, await ScalarAsync<long>(session, "SELECT seq FROM phi_access_audit_heads WHERE org_id = $1", first));
    }
}
