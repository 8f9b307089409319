using System.Reflection;

namespace WorkflowGraph.SchemaBinding;

/// <summary>The SDL in schema/*.graphql, embedded in the service: the schema it serves, in file-name order.</summary>
public static class SchemaDocument
{
    public static readonly string Text = Load();

    private static string Load()
    {
        var assembly = typeof(SchemaDocument).Assembly;
        var names = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("schema/", StringComparison.Ordinal) && n.EndsWith(".graphql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return string.Join("\n", names.Select(name => Read(assembly, name)));
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
