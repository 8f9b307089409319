using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Database;

/// <summary>Who read PHI through which operation: the part of a <c>phi_access_audit</c> record that is the same for every
/// record of one operation (a subscription's records, one per event it delivered).</summary>
public sealed record PhiAccessReader(RequestTenant Tenant, string? OperationName, string DocumentHash, IReadOnlyList<string> Fields);

/// <summary>
/// Writes <c>phi_access_audit</c> records on the primary, in a transaction of their own as the reader's tenant: the
/// records of a subscription's deliveries (one per event, a batch of them in one statement), and of a request whose own
/// transaction cannot carry its record (<see cref="RequestDatabase.RecordPhiAccessAsync"/>).
/// </summary>
public static class PhiAccessWriter
{
    public const string Insert =
        "INSERT INTO phi_access_audit (user_id, role, operation_name, document_hash, trace_ids, fields) " +
        "SELECT $1, $2, $3, $4, string_to_array(r.runs, ',')::bigint[], $5 FROM unnest($6::text[]) WITH ORDINALITY r(runs, n) ORDER BY r.n";

    /// <summary>The statement writing one record per entry of <paramref name="records"/> (each the runs it showed).</summary>
    public static Statement Statement(PhiAccessReader reader, IReadOnlyList<IReadOnlyCollection<long>> records) => new(Insert,
    [
        new() { Value = (object?)reader.Tenant.UserId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
        new() { Value = reader.Tenant.Role.ToString().ToLowerInvariant(), NpgsqlDbType = NpgsqlDbType.Text },
        new() { Value = (object?)reader.OperationName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
        new() { Value = reader.DocumentHash, NpgsqlDbType = NpgsqlDbType.Text },
        new() { Value = reader.Fields.Take(PhiAccessRecord.MaxFields).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
        new()
        {
            Value = records.Select(runs => string.Join(',', runs.Take(PhiAccessRecord.MaxRuns))).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        },
    ]);

    /// <summary>Writes and commits the records; throws when they could not be written (the caller then shows nothing).</summary>
    public static async Task WriteAsync(NpgsqlDataSource primary, PhiAccessReader reader, IReadOnlyList<IReadOnlyCollection<long>> records,
        IEnumerable<IStatementObserver> observers, CancellationToken cancellationToken)
    {
        await using var connection = await primary.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var command in TenantTransaction.Commands(reader.Tenant.OrgId, reader.Tenant.UserId))
            batch.BatchCommands.Add(command);
        Add(batch, reader, records, observers);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Appends the statement writing <paramref name="records"/> to <paramref name="batch"/> (and shows it to the
    /// observers): the tenant's transaction is the caller's.</summary>
    public static void Add(NpgsqlBatch batch, PhiAccessReader reader, IReadOnlyList<IReadOnlyCollection<long>> records,
        IEnumerable<IStatementObserver> observers)
    {
        var statement = Statement(reader, records);
        var insert = new NpgsqlBatchCommand(statement.Sql);
        insert.Parameters.AddRange(statement.Parameters.ToArray());
        batch.BatchCommands.Add(insert);
        foreach (var observer in observers)
            observer.OnStatement(statement.Sql, statement.Parameters);
    }
}

/// <summary>The PHI access records of subscriptions, one per event, through the instance's group commit.</summary>
public sealed class PhiAccessAuditor(PhiAccessBatcher batcher)
{
    public Task WriteAsync(PhiAccessReader reader, IReadOnlyList<IReadOnlyCollection<long>> records, CancellationToken cancellationToken) =>
        Task.WhenAll(records.Select(runs => batcher.WriteAsync(reader, runs, cancellationToken)));
}
