namespace WorkflowGraph.Database;

/// <summary>Starts the <see cref="ILocalDatabase"/>; registered only where the service may run one (see Program).</summary>
public interface ILocalDatabaseHost
{
    Task<ILocalDatabase> StartAsync(CancellationToken cancellationToken);
}
