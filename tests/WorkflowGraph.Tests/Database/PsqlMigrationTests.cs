using Npgsql;
using WorkflowGraph.Database.Migrations;
using WorkflowGraph.Development;
using WorkflowGraph.Hosting;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// DESIGN §1: <c>psql -v ON_ERROR_STOP=1 -f</c> on each file in name order builds the whole database, and builds
/// the same one the service's runner does.
/// </summary>
public sealed class PsqlMigrationTests : IAsyncLifetime
{
    private readonly string _psqlDatabase = TestCluster.UniqueDatabaseName();
    private readonly string _runnerDatabase = TestCluster.UniqueDatabaseName();

    public async Task InitializeAsync()
    {
        await TestCluster.CreateEmptyDatabaseAsync(_psqlDatabase);
        await TestCluster.CreateDatabaseAsync(_runnerDatabase);
    }

    public async Task DisposeAsync()
    {
        await TestCluster.DropDatabaseAsync(_psqlDatabase);
        await TestCluster.DropDatabaseAsync(_runnerDatabase);
    }

    [Fact]
    public async Task Psql_applies_every_file_in_order_and_builds_what_the_runner_builds()
    {
        var cluster = await TestCluster.GetAsync();
        var folder = Path.Combine(RepoRoot.Find(AppContext.BaseDirectory)!, "db", "migrations");
        var files = Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(MigrationScript.Embedded.Select(s => s.Name), files.Select(Path.GetFileName));

        var environment = new Dictionary<string, string>
        {
            ["PGHOST"] = "127.0.0.1",
            ["PGPORT"] = cluster.Port.ToString(),
            ["PGUSER"] = EmbeddedPostgres.OwnerName,
            ["PGPASSWORD"] = cluster.Password,
            ["PGDATABASE"] = _psqlDatabase,
        };
        foreach (var file in files)
        {
            var psql = await ProcessRunner.RunAsync(cluster.Binaries.Psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file],
                environment: environment);
            Assert.True(psql.ExitCode == 0, $"psql -f {Path.GetFileName(file)} exited with {psql.ExitCode}:\n{psql.Output}");
        }

        var viaPsql = await CatalogAsync(cluster.GetConnectionString(_psqlDatabase));
        var viaRunner = await CatalogAsync(cluster.GetConnectionString(_runnerDatabase));
        Assert.NotEmpty(viaPsql);
        Assert.Equal(viaRunner, viaPsql);
    }

    /// <summary>A line per user-defined object, so two databases built differently can be compared.</summary>
    private static async Task<List<string>> CatalogAsync(string connectionString)
    {
        const string sql = """
            WITH user_namespaces AS (
              SELECT oid FROM pg_namespace
              WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
                AND nspname NOT LIKE 'pg_temp%'
            ), relations AS (
              SELECT c.* FROM pg_class c
              WHERE c.relnamespace IN (SELECT oid FROM user_namespaces) AND c.relname NOT LIKE 'schema_migrations%'
            )
            SELECT 'relation ' || relkind::text || ' ' || oid::regclass || ' rls=' || relrowsecurity FROM relations
            UNION ALL
            SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            FROM pg_attribute a JOIN relations r ON r.oid = a.attrelid
            WHERE a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace IN (SELECT oid FROM user_namespaces) AND conrelid IN (SELECT oid FROM relations)
            UNION ALL
            SELECT 'function ' || oid::regprocedure || ' ' || provolatile::text || ' secdef=' || prosecdef
            FROM pg_proc WHERE pronamespace IN (SELECT oid FROM user_namespaces)
            UNION ALL
            SELECT 'type ' || format_type(oid, NULL) || ' ' || typtype::text
            FROM pg_type WHERE typnamespace IN (SELECT oid FROM user_namespaces) AND typtype IN ('d', 'e')
            UNION ALL
            SELECT 'policy ' || polname || ' on ' || polrelid::regclass FROM pg_policy
            UNION ALL
            SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT 'grant ' || table_name || ' ' || grantee || ' ' || privilege_type
            FROM information_schema.role_table_grants
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_name NOT LIKE 'schema_migrations%'
            ORDER BY 1
            """;
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }
}
