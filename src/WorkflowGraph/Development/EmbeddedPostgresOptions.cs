namespace WorkflowGraph.Development;

/// <param name="RootDirectory">
/// The cluster's own folder: <c>data/</c> (PGDATA), <c>run/</c> (unix socket), <c>password</c> (0600) and <c>postgres.log</c>.
/// </param>
public sealed record EmbeddedPostgresOptions(string RootDirectory)
{
    /// <summary>Created when missing; null creates none.</summary>
    public string? Database { get; init; } = "workflowgraph";

    /// <summary>False trades crash safety for speed (fsync off): only for clusters that are thrown away.</summary>
    public bool Durable { get; init; } = true;

    public int MaxConnections { get; init; } = 200;

    /// <summary>OS user for initdb/pg_ctl when running as root; default <c>postgres</c>, else <c>workflowgraph</c>.</summary>
    public string? RunAsUser { get; init; }
}
