using System.Security.Cryptography;
using System.Text;

namespace WorkflowGraph.Database.Migrations;

/// <summary>One file of db/migrations: its file name and SQL text.</summary>
public sealed record MigrationScript(string Name, string Sql)
{
    private const string ResourcePrefix = "migrations/";

    /// <summary>
    /// Hex SHA-256 of the text with line endings normalised, so a checkout with CRLF (git autocrlf) is not
    /// mistaken for an edited migration.
    /// </summary>
    public string Sha256 { get; } = Convert.ToHexString(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.Replace("\r\n", "\n", StringComparison.Ordinal)))).ToLowerInvariant();

    /// <summary>The db/migrations/*.sql files compiled into this assembly, in application order.</summary>
    public static IReadOnlyList<MigrationScript> Embedded { get; } = EmbeddedSql.ReadAll(ResourcePrefix)
        .Select(file => new MigrationScript(file.Name, file.Sql))
        .OrderBy(script => script.Name, StringComparer.Ordinal)
        .ToList();
}
