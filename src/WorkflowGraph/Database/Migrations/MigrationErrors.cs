using Npgsql;

namespace WorkflowGraph.Database.Migrations;

public sealed class MigrationChangedException(string name, string appliedSha256, string currentSha256)
    : Exception($"Migration {name} was applied with sha256 {appliedSha256}, but the file now hashes to {currentSha256}. " +
                "Applied migrations must never change: restore the file and put the change in a new migration " +
                "(or rebuild the database if this is a throwaway one).")
{
    public string MigrationName { get; } = name;
}

public sealed class MigrationFailedException(string name, PostgresException error)
    : Exception($"Migration {name} failed and was rolled back: {Describe(error)}", error)
{
    public string MigrationName { get; } = name;

    private static string Describe(PostgresException error)
    {
        var statement = error.BatchCommand?.CommandText.Trim() ?? "";
        var firstLine = statement.Split('\n', 2)[0];
        return $"{error.SqlState}: {error.MessageText}" +
               (error.Detail is { } detail ? $" ({detail})" : "") +
               (error.Hint is { } hint ? $"\n  hint: {hint}" : "") +
               (error.Where is { } where ? $"\n  where: {where}" : "") +
               (firstLine.Length > 0 ? $"\n  in statement starting: {firstLine}" : "");
    }
}
