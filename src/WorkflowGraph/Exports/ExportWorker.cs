using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Exports;

/// <summary>
/// Writes the export jobs (db/migrations/043) in the background: every <c>Export:PollSeconds</c> it claims the oldest
/// open job no instance holds (a lease of <c>Export:LeaseSeconds</c>), reads its runs in one statement as the tenant and
/// user who requested it and writes them to a temporary file, then renames the file and finishes the job in the same
/// transaction (an export as stored writes its <c>phi_access_audit</c> records there too). A job whose instance stopped
/// or died is started again from the beginning once its lease is given back or expires, at most
/// <c>Export:MaxAttempts</c> times; then it fails. Each pass also deletes the files past their expiry.
/// </summary>
public sealed class ExportWorker(NpgsqlDataSource dataSource, ExportStorage storage, IConfiguration configuration,
    ILogger<ExportWorker> logger) : BackgroundService
{
    private readonly string _name = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private sealed record Claimed(long Id, Guid OrgId, Guid? RequestedBy, string Format, bool Deidentify, int Attempt);

    private sealed record Written(int Runs, int Steps, int Context, int Events, long Bytes, List<long> RunIds);

    /// <summary>The worker's name in the jobs it holds.</summary>
    public string Name => _name;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = configuration.GetValue("Export:PollSeconds", 1.0);
        if (poll <= 0)
            return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(poll));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunPassAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // whatever went wrong, the instance keeps serving: a job in hand was failed or released, or its lease expires
                logger.LogWarning(e, "The export worker could not go on");
            }
        }
    }

    /// <summary>Every job that can be claimed now, one after another, then the expired files.</summary>
    public async Task RunPassAsync(CancellationToken cancellationToken)
    {
        var lease = Math.Max(configuration.GetValue("Export:LeaseSeconds", 600), 1);
        var attempts = Math.Max(configuration.GetValue("Export:MaxAttempts", 3), 1);
        while (await ClaimAsync(lease, attempts, cancellationToken) is { } job)
            await WorkAsync(job, lease, cancellationToken);
        await SweepExpiredAsync(cancellationToken);
    }

    private Task<Claimed?> ClaimAsync(int lease, int attempts, CancellationToken cancellationToken) =>
        BackgroundTransaction.RunAsync(dataSource, null, null,
            "SELECT job_id, org_id, requested_by, format, deidentify, attempt FROM claim_export_job($1, $2, $3)", [_name, lease, attempts],
            async (reader, ct) => await reader.ReadAsync(ct)
                ? new Claimed(reader.GetInt64(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3),
                    reader.GetBoolean(4), reader.GetInt32(5))
                : null,
            cancellationToken);

    private async Task WorkAsync(Claimed job, int lease, CancellationToken stoppingToken)
    {
        var folder = storage.OrganisationFolder(job.OrgId);
        var fileName = ExportStorage.FileName(job.Id, job.Format);
        var final = Path.Combine(folder, fileName);
        var partial = Path.Combine(folder, $".{fileName}.{job.Attempt}.{Guid.NewGuid():N}.partial");
        var renamed = false;
        try
        {
            await using var transaction = await BackgroundTransaction.BeginAsync(dataSource, job.OrgId, job.RequestedBy,
                TimeSpan.FromSeconds(lease), stoppingToken, ("app.phi_read", "off"));
            var written = await WriteAsync(job, transaction, folder, partial, stoppingToken);
            if (!job.Deidentify)
                await AuditAsync(job, transaction, written.RunIds, stoppingToken);
            File.Move(partial, final, overwrite: true);
            renamed = true;
            await using (var finish = transaction.Command("SELECT finish_export_job($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                             job.Id, _name, fileName, written.Runs, written.Steps, written.Context, written.Events, written.Bytes,
                             DateTime.UtcNow + storage.Retention))
                await finish.ExecuteNonQueryAsync(stoppingToken);
            await transaction.Transaction.CommitAsync(stoppingToken);
            logger.LogInformation("Export {Job} completed: {Runs} runs, {Bytes} bytes", job.Id, written.Runs, written.Bytes);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Discard(partial, renamed ? final : null);
            await ReleaseAsync(job);
            throw;
        }
        catch (PostgresException e) when (e.SqlState is "WF001" or "WF002")
        {
            // the file it renamed, if any, is the instance's that holds the job now (the same runs, the same name)
            Discard(partial, null);
            logger.LogWarning("Export {Job} is no longer this instance's: {Reason}", job.Id, e.MessageText);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Discard(partial, renamed ? final : null);
            logger.LogWarning(e, "Export {Job} failed", job.Id);
            await FailAsync(job, Describe(e), stoppingToken);
        }
    }

    private static async Task<Written> WriteAsync(Claimed job, BackgroundTransaction transaction, string folder, string partial,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var ids = Array.Empty<long>();
        await using (var read = transaction.Command("SELECT trace_ids FROM export_jobs WHERE id = $1", job.Id))
            ids = (long[])(await read.ExecuteScalarAsync(cancellationToken))!;
        int runs = 0, steps = 0, context = 0, events = 0;
        var runIds = new List<long>();
        await using var file = ExportFileWriter.Create(job.Format, partial);
        await using (var command = transaction.Command(ExportStatement.Text(job.Deidentify)))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var run = new ExportedRun
                {
                    Id = reader.GetInt64(0),
                    WorkflowId = reader.GetString(1),
                    Channel = reader.GetString(2),
                    Status = reader.GetString(3),
                    ExternalId = reader.IsDBNull(4) ? null : reader.GetString(4),
                    ConfigSnapshot = reader.IsDBNull(5) ? null : reader.GetString(5),
                    StartTime = reader.GetDateTime(6),
                    EndTime = reader.IsDBNull(7) ? null : reader.GetDateTime(7),
                    DurationMs = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                    ErrorMessage = reader.IsDBNull(9) ? null : reader.GetString(9),
                    CancelReason = reader.IsDBNull(10) ? null : reader.GetString(10),
                    Attempt = reader.GetInt32(11),
                    Steps = reader.GetString(12),
                    Context = reader.GetString(14),
                    Events = reader.GetString(16),
                };
                steps += reader.GetInt32(13);
                context += reader.GetInt32(15);
                events += reader.GetInt32(17);
                runs++;
                runIds.Add(run.Id);
                await file.WriteAsync(run, cancellationToken);
            }
        }
        var bytes = await file.CompleteAsync(cancellationToken);
        return new Written(runs, steps, context, events, bytes, runIds);
    }

    /// <summary>An export as stored is an unmasked read: its records (one per <see cref="PhiAccessRecord.MaxRuns"/> runs) commit
    /// with the job, through the same writer as every other read's.</summary>
    private static async Task AuditAsync(Claimed job, BackgroundTransaction transaction, List<long> runIds,
        CancellationToken cancellationToken)
    {
        var tenant = new RequestTenant(job.OrgId, job.RequestedBy, TenantRole.Admin, PhiRead: true);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ExportStatement.Text(deidentify: false))));
        var reader = new PhiAccessReader(tenant, "exportTraces", hash, ExportStatement.ClassifiedFields);
        List<IReadOnlyCollection<long>> records = runIds.Count == 0 ? [Array.Empty<long>()] : [.. runIds.Chunk(PhiAccessRecord.MaxRuns)];
        var statement = PhiAccessWriter.Statement(reader, records);
        await using var command = new NpgsqlCommand(statement.Sql, transaction.Connection, transaction.Transaction);
        command.Parameters.AddRange(statement.Parameters.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task FailAsync(Claimed job, string error, CancellationToken cancellationToken)
    {
        try
        {
            await BackgroundTransaction.RunAsync<object?>(dataSource, job.OrgId, job.RequestedBy, "SELECT fail_export_job($1, $2, $3)",
                [job.Id, _name, error], (_, _) => Task.FromResult<object?>(null), cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "Export {Job}: its failure could not be recorded; its lease expires instead", job.Id);
        }
    }

    private async Task ReleaseAsync(Claimed job)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await BackgroundTransaction.RunAsync<object?>(dataSource, job.OrgId, job.RequestedBy, "SELECT release_export_job($1, $2)",
                [job.Id, _name], (_, _) => Task.FromResult<object?>(null), deadline.Token);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning(e, "Export {Job}: its lease could not be given back; it expires instead", job.Id);
        }
    }

    /// <summary>Files past their expiry: their jobs become EXPIRED in the transaction that deletes them.</summary>
    private async Task SweepExpiredAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await BackgroundTransaction.BeginAsync(dataSource, null, null, TimeSpan.FromSeconds(60),
            cancellationToken);
        var expired = new List<(Guid Org, string? File)>();
        await using (var command = transaction.Command("SELECT org_id, file_name FROM expire_export_jobs(100)"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                expired.Add((reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        if (expired.Count == 0)
            return;
        foreach (var (org, file) in expired)
            if (file is not null)
                File.Delete(storage.PathOf(org, file));
        await transaction.Transaction.CommitAsync(cancellationToken);
    }

    private void Discard(string partial, string? final)
    {
        foreach (var path in new[] { partial, final })
        {
            try
            {
                if (path is not null)
                    File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "An unfinished export file could not be deleted");
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        PostgresException pg => string.Create(CultureInfo.InvariantCulture, $"the database refused the export (SQLSTATE {pg.SqlState})"),
        NpgsqlException or TimeoutException => "the database could not be read",
        _ => "the export file could not be written",
    };
}
