using Microsoft.Extensions.Configuration;
using WorkflowGraph.Retention;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Retention;

/// <summary>
/// The owner's retention command (<c>retention run</c>) and the way back (<c>archive restore</c>). Each test has a database
/// and an archive directory of its own, with committed rows of two organisations: the run acts on every organisation.
/// </summary>
public sealed class RetentionRunTests : IAsyncLifetime
{
    private static readonly Guid OrgA = Guid.Parse("a0000000-0000-4000-8000-0000000000a1");
    private static readonly Guid OrgB = Guid.Parse("b0000000-0000-4000-8000-0000000000b2");

    // A: run 11 ended in January 2020 (events in p202001), run 12 ended 400 days ago (events in the default partition),
    //    run 14 is still open but its first event lies in p202003 (dropped by its own time), run 16 ended 10 days ago.
    // B: run 21 ended in February 2020 (events in p202002, which A's partitions do not share), run 22 is open.
    private const string DataSet = """
        INSERT INTO organizations (id, name) VALUES
          ('a0000000-0000-4000-8000-0000000000a1', 'Org A'), ('b0000000-0000-4000-8000-0000000000b2', 'Org B');
        INSERT INTO workflows (id, org_id, name) VALUES
          ('a0000000-0000-4000-8000-00000000f0a1', 'a0000000-0000-4000-8000-0000000000a1', 'Eligibility Check'),
          ('b0000000-0000-4000-8000-00000000f0b2', 'b0000000-0000-4000-8000-0000000000b2', 'Prior Authorisation');
        INSERT INTO workflow_nodes (id, org_id, workflow_id, name, node_type) VALUES
          (1, 'a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000f0a1', 'fetch', 'action'),
          (3, 'b0000000-0000-4000-8000-0000000000b2', 'b0000000-0000-4000-8000-00000000f0b2', 'fetch', 'action');
        SELECT ensure_workflow_event_partitions('2020-01-01', '2020-03-15');
        INSERT INTO workflow_trace (id, org_id, workflow_id, channel, status, external_id, config_snapshot, start_time, end_time)
        VALUES
          (11, 'a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000f0a1', 'web', 'completed', 'claim-11',
           '{"plan": "gold"}', '2020-01-10 10:00:00+00', '2020-01-10 10:00:05+00'),
          (12, 'a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000f0a1', 'voice', 'failed', NULL, NULL,
           now() - interval '400 days', now() - interval '400 days' + interval '3 seconds'),
          (14, 'a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000f0a1', 'web', 'active', NULL, NULL,
           '2020-03-03 10:00:00+00', NULL),
          (16, 'a0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-00000000f0a1', 'efax', 'completed', NULL, NULL,
           now() - interval '10 days', now() - interval '10 days' + interval '2 seconds'),
          (21, 'b0000000-0000-4000-8000-0000000000b2', 'b0000000-0000-4000-8000-00000000f0b2', 'web', 'cancelled', NULL, NULL,
           '2020-02-07 10:00:00+00', '2020-02-07 10:00:03+00'),
          (22, 'b0000000-0000-4000-8000-0000000000b2', 'b0000000-0000-4000-8000-00000000f0b2', 'web', 'active', NULL, NULL,
           now() - interval '1 day', NULL);
        INSERT INTO workflow_steps (id, org_id, trace_id, node_id, step_number, status, input_data, output_data, start_time, end_time)
        SELECT v.id, t.org_id, v.trace_id, v.node_id, 1, v.status, '{"member": "M-1"}', '{"eligible": true}', t.start_time,
               CASE WHEN v.status = 'running' THEN NULL ELSE t.start_time + interval '1 second' END
          FROM (VALUES (101, 11, 1, 'completed'), (102, 12, 1, 'failed'), (104, 14, 1, 'running'), (106, 16, 1, 'completed'),
                       (201, 21, 3, 'completed')) v (id, trace_id, node_id, status)
          JOIN workflow_trace t ON t.id = v.trace_id;
        INSERT INTO workflow_trace_context (org_id, trace_id, key, value)
        SELECT t.org_id, t.id, 'patient', to_jsonb('Jane Doe ' || t.id) FROM workflow_trace t WHERE t.id IN (11, 12, 16, 21);
        INSERT INTO workflow_events (org_id, trace_id, step_id, event_type, event_data, created_at)
        SELECT t.org_id, v.trace_id, v.step_id, v.event_type, '{"note": "x"}', v.created_at
          FROM (VALUES
            (11, NULL::bigint, 'workflow_started',   timestamptz '2020-01-10 10:00:00+00'),
            (11, 101,          'step_completed',     '2020-01-10 10:00:02+00'),
            (11, NULL,         'workflow_completed', '2020-01-10 10:00:05+00'),
            (12, NULL,         'workflow_started',   now() - interval '400 days'),
            (12, 102,          'step_failed',        now() - interval '400 days' + interval '1 second'),
            (14, NULL,         'workflow_started',   '2020-03-03 10:00:00+00'),
            (14, 104,          'step_started',       now()),
            (16, NULL,         'workflow_completed', now() - interval '10 days'),
            (21, NULL,         'workflow_started',   '2020-02-07 10:00:00+00'),
            (21, 201,          'step_completed',     '2020-02-07 10:00:03+00'),
            (22, NULL,         'workflow_started',   now() - interval '1 day')
          ) v (trace_id, step_id, event_type, created_at)
          JOIN workflow_trace t ON t.id = v.trace_id;
        """;

    /// <summary>Every row of the four tables, as row_to_json writes it, prefixed by its table.</summary>
    private const string AllRows = """
        SELECT 'workflow_trace ' || row_to_json(t)::text FROM workflow_trace t
        UNION ALL SELECT 'workflow_steps ' || row_to_json(s)::text FROM workflow_steps s
        UNION ALL SELECT 'workflow_trace_context ' || row_to_json(c)::text FROM workflow_trace_context c
        UNION ALL SELECT 'workflow_events ' || row_to_json(e)::text FROM workflow_events e
        """;

    private readonly DatabaseFixture _db = new();
    private readonly string _archive = Path.Combine(Path.GetTempPath(), "wg-retention-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecAsync(DataSet);
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        if (File.Exists(_archive))
            File.Delete(_archive);
        else if (Directory.Exists(_archive))
            Directory.Delete(_archive, recursive: true);
    }

    private IConfiguration Settings(string? archive = null, long? maxRows = null, bool connection = true) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:WorkflowGraphOwner"] = connection ? _db.OwnerConnectionString : null,
            ["Retention:ArchiveDirectory"] = archive ?? _archive,
            ["Retention:RestoreMaxRows"] = maxRows?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();

    private async Task<(int Code, string Output, string Error)> CommandAsync(IConfiguration settings, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await RetentionCommands.RunAsync(args, output, error, _ => settings);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<List<string>> RowsAsync(string sql = AllRows, params object?[] args)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return [.. (await conn.RowsAsync(sql, args)).Select(r => (string)r.Values.Single()!).Order(StringComparer.Ordinal)];
    }

    private async Task<List<string>> PartitionsAsync() => await RowsAsync(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'workflow_events'::regclass");

    private string[] ArchiveFiles(Guid org) => Directory.Exists(Path.Combine(_archive, org.ToString("D")))
        ? [.. Directory.GetFiles(Path.Combine(_archive, org.ToString("D"))).Order(StringComparer.Ordinal)]
        : [];

    private static async Task<List<ArchivedRow>> ReadAllAsync(IEnumerable<string> files)
    {
        var rows = new List<ArchivedRow>();
        foreach (var file in files)
            rows.AddRange(await ArchiveFile.ReadAsync(file));
        return rows;
    }

    private static List<string> Multiset(IEnumerable<string> rows) => [.. rows.Order(StringComparer.Ordinal)];

    private static string Month(int daysAgo) => DateTime.UtcNow.AddDays(-daysAgo).ToString("yyyy-MM",
        System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_owner_run_archives_each_organisation_apart_then_deletes_and_drops_exactly_what_it_archived()
    {
        var before = await RowsAsync();

        var (code, output, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");

        Assert.True(code == 0, error);
        var after = await RowsAsync();
        var deleted = before.Except(after).ToList();
        Assert.Equal(before.Count - after.Count, deleted.Count);
        // runs 11, 12 and 21 with everything of theirs, and run 14's event in the expired March 2020 partition
        Assert.Equal(3, deleted.Count(r => r.StartsWith("workflow_trace ", StringComparison.Ordinal)));
        Assert.Contains(after, r => r.StartsWith("workflow_trace {\"id\":14,", StringComparison.Ordinal));
        Assert.Equal(["1"], await RowsAsync("SELECT count(*)::text FROM workflow_events WHERE trace_id = 14"));
        var partitions = await PartitionsAsync();
        Assert.DoesNotContain("workflow_events_p202001", partitions);
        Assert.DoesNotContain("workflow_events_p202002", partitions);
        Assert.DoesNotContain("workflow_events_p202003", partitions);
        Assert.Contains("3 runs", output, StringComparison.Ordinal);

        // one folder per organisation, one file per month, nothing of one organisation in the other's files
        var a = ArchiveFiles(OrgA);
        var b = ArchiveFiles(OrgB);
        Assert.Equal(
            Multiset(["retention-2020-01", "retention-2020-03", "retention-" + Month(400)]),
            Multiset(a.Select(f => Path.GetFileName(f)[..17])));
        Assert.Equal(["retention-2020-02"], b.Select(f => Path.GetFileName(f)[..17]));
        var rowsA = await ReadAllAsync(a);
        var rowsB = await ReadAllAsync(b);
        Assert.All(rowsA, r => Assert.Contains($"\"org_id\":\"{OrgA:D}\"", r.Row, StringComparison.Ordinal));
        Assert.All(rowsB, r => Assert.Contains($"\"org_id\":\"{OrgB:D}\"", r.Row, StringComparison.Ordinal));
        Assert.All(rowsA, r => Assert.Equal(OrgA.ToString("D"), r.OrgId));
        Assert.All(rowsB, r => Assert.Equal(OrgB.ToString("D"), r.OrgId));
        // exactly what was deleted, each row once, as it was (PHI included: the archive is the record)
        Assert.Equal(Multiset(deleted), Multiset(rowsA.Concat(rowsB).Select(r => r.Table + " " + r.Row)));
        Assert.Contains(rowsA, r => r.Row.Contains("Jane Doe 11", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(_archive, "*.partial", SearchOption.AllDirectories));
        Assert.Equal(4L, (await RowsAsync("SELECT count(*)::text FROM retention_archive_files")).Select(long.Parse).Single());

        // a second run finds nothing to archive or delete and leaves the archive as it is
        (code, _, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");
        Assert.True(code == 0, error);
        Assert.Equal(after, await RowsAsync());
        Assert.Equal(a, ArchiveFiles(OrgA));
        Assert.Equal(b, ArchiveFiles(OrgB));
    }

    [Fact]
    public async Task An_unwritable_archive_directory_leaves_every_row_and_partition_in_place()
    {
        var before = await RowsAsync();
        var partitions = await PartitionsAsync();
        await File.WriteAllTextAsync(_archive, "a file where the archive directory should be");

        var (code, _, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");

        Assert.Equal(1, code);
        Assert.Contains("could not be written", error, StringComparison.Ordinal);
        Assert.Contains("nothing was deleted", error, StringComparison.Ordinal);
        Assert.Equal(before, await RowsAsync());
        Assert.Equal(partitions, await PartitionsAsync());
        Assert.Equal(["0"], await RowsAsync("SELECT count(*)::text FROM retention_archive_files"));
    }

    [Fact]
    public async Task A_run_whose_commit_failed_after_its_files_were_written_is_replaced_by_the_next_without_duplicates()
    {
        var before = await RowsAsync();
        // the commit fails after the archive is complete and the rows deleted: as a crash between the two would leave it
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecAsync("""
                CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the commit did not happen'; END $$;
                CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON retention_archive_files
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit();
                """);
        var (code, _, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");
        Assert.Equal(1, code);
        Assert.Contains("commit", error, StringComparison.Ordinal);
        Assert.Equal(before, await RowsAsync());
        var left = ArchiveFiles(OrgA).Concat(ArchiveFiles(OrgB)).ToList();
        Assert.NotEmpty(left);
        // and a file of an older run that never committed, under a name this run would not choose
        var stale = Path.Combine(_archive, OrgB.ToString("D"), "retention-2020-02-before-20200101.parquet");
        File.Copy(ArchiveFiles(OrgB)[0], stale);

        await using (var conn = await _db.DataSource.OpenConnectionAsync())
            await conn.ExecAsync("DROP TRIGGER test_refuse_commit ON retention_archive_files");
        (code, _, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");

        Assert.True(code == 0, error);
        var after = await RowsAsync();
        var files = ArchiveFiles(OrgA).Concat(ArchiveFiles(OrgB)).ToList();
        Assert.DoesNotContain(stale, files);
        Assert.Equal(left.Count, files.Count);
        Assert.Equal(Multiset(before.Except(after)), Multiset((await ReadAllAsync(files)).Select(r => r.Table + " " + r.Row)));
        Assert.Equal([.. files.Select(f => Path.GetRelativePath(_archive, f)).Order(StringComparer.Ordinal)],
            await RowsAsync("SELECT file FROM retention_archive_files"));
    }

    [Fact]
    public async Task An_archive_restores_the_rows_as_they_were_once_and_a_damaged_one_restores_nothing()
    {
        var before = await RowsAsync();
        var partitionsBefore = await PartitionsAsync();
        Assert.Equal(0, (await CommandAsync(Settings(), "retention", "run", "--retention", "365d")).Code);
        var afterRun = await RowsAsync();
        var files = ArchiveFiles(OrgA).Concat(ArchiveFiles(OrgB)).ToList();

        // a truncated file, a file over the bound and a file of two organisations restore nothing
        var truncated = Path.Combine(_archive, "truncated.parquet");
        var bytes = await File.ReadAllBytesAsync(files[0]);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        var (code, _, error) = await CommandAsync(Settings(), "archive", "restore", truncated);
        Assert.Equal(1, code);
        Assert.Contains("not a readable archive", error, StringComparison.Ordinal);
        (code, _, error) = await CommandAsync(Settings(maxRows: 1), "archive", "restore", files[0]);
        Assert.Equal(1, code);
        Assert.Contains("Retention:RestoreMaxRows", error, StringComparison.Ordinal);
        var mixed = Path.Combine(_archive, "mixed.parquet");
        await using (var stream = File.Create(mixed))
        {
            var writer = ArchiveFile.Writer(stream);
            var rows = (await ArchiveFile.ReadAsync(ArchiveFiles(OrgA)[0])).Concat(await ArchiveFile.ReadAsync(ArchiveFiles(OrgB)[0]));
            foreach (var row in rows)
                await writer.WriteAsync(row, CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }
        (code, _, error) = await CommandAsync(Settings(), "archive", "restore", mixed);
        Assert.Equal(1, code);
        Assert.Contains("one organisation", error, StringComparison.Ordinal);
        Assert.Equal(afterRun, await RowsAsync());

        // every file back: every column of every row as it was, the dropped partitions back
        foreach (var file in files)
        {
            string output;
            (code, output, error) = await CommandAsync(Settings(), "archive", "restore", file);
            Assert.True(code == 0, error);
            Assert.Contains("0 rows already present", output, StringComparison.Ordinal);
        }
        Assert.Equal(before, await RowsAsync());
        var partitionsAfter = await PartitionsAsync();
        Assert.Empty(partitionsBefore.Except(partitionsAfter));

        // restoring again changes nothing
        foreach (var file in files)
        {
            string output;
            (code, output, error) = await CommandAsync(Settings(), "archive", "restore", file);
            Assert.True(code == 0, error);
            Assert.Contains(" 0 workflow_trace,", output, StringComparison.Ordinal);
        }
        Assert.Equal(before, await RowsAsync());
    }

    [Fact]
    public async Task One_run_at_a_time_and_bad_arguments_are_refused_before_anything_is_done()
    {
        var before = await RowsAsync();
        await using (var holder = await _db.DataSource.OpenConnectionAsync())
        {
            await holder.ExecAsync("SELECT pg_advisory_lock($1)", RetentionRun.LockKey);
            var (code, _, error) = await CommandAsync(Settings(), "retention", "run", "--retention", "365d");
            Assert.Equal(1, code);
            Assert.Contains("Another retention run", error, StringComparison.Ordinal);
            await holder.ExecAsync("SELECT pg_advisory_unlock_all()");
        }
        foreach (var days in new[] { "0d", "36501d", "-1d", "ninety", "" })
            Assert.Equal(2, (await CommandAsync(Settings(), "retention", "run", "--retention", days)).Code);
        Assert.Equal(2, (await CommandAsync(Settings(archive: ""), "retention", "run")).Code);
        Assert.Equal(2, (await CommandAsync(Settings(connection: false), "retention", "run")).Code);
        Assert.Equal(2, (await CommandAsync(Settings(maxRows: 0), "archive", "restore", "x.parquet")).Code);
        Assert.Equal(1, (await CommandAsync(Settings(), "archive", "restore", Path.Combine(_archive, "none.parquet"))).Code);
        Assert.Equal(2, (await CommandAsync(Settings(), "retention", "sweep")).Code);
        Assert.Equal(before, await RowsAsync());
        Assert.False(Directory.Exists(_archive));
    }
}
