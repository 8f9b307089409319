namespace WorkflowGraph.Hosting;

public static class RepoRoot
{
    private const string Marker = "WorkflowGraph.sln";

    /// <summary>The folder holding WorkflowGraph.sln above <paramref name="start"/> (or the current directory).</summary>
    public static string? Find(string? start = null)
    {
        foreach (var origin in new[] { start, Directory.GetCurrentDirectory() })
        {
            for (var dir = origin is null ? null : new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, Marker))) return dir.FullName;
            }
        }
        return null;
    }
}
