using System.Reflection;
using System.Text;

namespace WorkflowGraph.Database.Migrations;

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
