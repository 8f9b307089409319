using System.Reflection;
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

internal static class EmbeddedSql
{
    public static IEnumerable<(string Name, string Sql)> ReadAll(string prefix)
    {
        var assembly = typeof(EmbeddedSql).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) ||
                !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            yield return (resource[prefix.Length..], Read(assembly, resource));
        }
    }

    public static string? ReadOne(string resource)
    {
        var assembly = typeof(EmbeddedSql).Assembly;
        return assembly.GetManifestResourceInfo(resource) is null ? null : Read(assembly, resource);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
