using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

public sealed class MigrationRunnerTests : IAsyncLifetime
{
    private readonly string _name = TestCluster.UniqueDatabaseName();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestCluster.CreateEmptyDatabaseAsync(_name);

    public Task DisposeAsync() => TestCluster.DropDatabaseAsync(_name);

    [Fact]
    public async Task Applies_every_migration_to_an_empty_database_and_nothing_the_second_time()
    {
        var scripts = MigrationScript.Embedded;
        Assert.NotEmpty(scripts);

        var first = await new MigrationRunner(_connectionString, scripts).MigrateAsync();
        var second = await new MigrationRunner(_connectionString, scripts).MigrateAsync();

        Assert.Equal(scripts.Select(s => s.Name), first.Applied);
        Assert.Empty(second.Applied);
        Assert.Equal(scripts.Count, second.TotalApplied);
        Assert.Equal(scripts.Select(s => (s.Name, s.Sha256)), await JournalAsync());
    }

    [Fact]
    public async Task Applies_in_ordinal_name_order_whatever_order_they_are_given()
    {
        var scripts = new[]
        {
            new MigrationScript("002_add_column.sql", "ALTER TABLE thing ADD COLUMN label text;"),
            new MigrationScript("001_create.sql", "CREATE TABLE thing (id int PRIMARY KEY);"),
        };

        var result = await new MigrationRunner(_connectionString, scripts).MigrateAsync();

        Assert.Equal(["001_create.sql", "002_add_column.sql"], result.Applied);
    }

    [Fact]
    public async Task Refuses_an_applied_migration_whose_content_changed()
    {
        await new MigrationRunner(_connectionString, [new MigrationScript("001_create.sql", "CREATE TABLE thing (id int);")])
            .MigrateAsync();
        var edited = new MigrationScript("001_create.sql", "CREATE TABLE thing (id bigint);");
        var next = new MigrationScript("002_more.sql", "CREATE TABLE other (id int);");

        var error = await Assert.ThrowsAsync<MigrationChangedException>(
            () => new MigrationRunner(_connectionString, [edited, next]).MigrateAsync());

        Assert.Equal("001_create.sql", error.MigrationName);
        Assert.Contains("001_create.sql", error.Message);
        Assert.Equal(["001_create.sql"], (await JournalAsync()).Select(row => row.Name));
    }

    [Fact]
    public async Task A_failing_migration_leaves_neither_its_changes_nor_its_journal_row()
    {
        var scripts = new[]
        {
            new MigrationScript("001_ok.sql", "CREATE TABLE kept (id int);"),
            new MigrationScript("002_broken.sql", "CREATE TABLE half_done (id int);\nSELECT no_such_function();"),
        };

        var error = await Assert.ThrowsAsync<MigrationFailedException>(
            () => new MigrationRunner(_connectionString, scripts).MigrateAsync());

        Assert.Equal("002_broken.sql", error.MigrationName);
        Assert.Contains("no_such_function", error.Message);
        Assert.Equal(["001_ok.sql"], (await JournalAsync()).Select(row => row.Name));
        Assert.False(await ScalarAsync<bool>("SELECT to_regclass('half_done') IS NOT NULL"));
    }

    [Fact]
    public async Task Two_runners_starting_at_once_apply_each_file_exactly_once()
    {
        // Without the advisory lock the second CREATE TABLE (or journal insert) would fail.
        var scripts = Enumerable.Range(1, 5)
            .Select(i => new MigrationScript($"{i:000}_t{i}.sql", $"CREATE TABLE t{i} (id int); SELECT pg_sleep(0.02);"))
            .ToList();

        var results = await Task.WhenAll(
            new MigrationRunner(_connectionString, scripts).MigrateAsync(),
            new MigrationRunner(_connectionString, scripts).MigrateAsync());

        Assert.Equal(scripts.Count, results.Sum(r => r.Applied.Count));
        Assert.Equal(scripts.Count, (await JournalAsync()).Count);
    }

    private async Task<List<(string Name, string Sha256)>> JournalAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT name, sha256 FROM schema_migrations ORDER BY name", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
