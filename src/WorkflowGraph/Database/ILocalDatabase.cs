namespace WorkflowGraph.Database;

/// <summary>
/// A database the service runs for itself when <c>ConnectionStrings:WorkflowGraph</c> is not set (development: the
/// embedded cluster of <c>Development/</c>). Disposing it stops it.
/// </summary>
public interface ILocalDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>The service's login to it.</summary>
    string AppConnectionString { get; }

    /// <summary>The owner's login, for migrations.</summary>
    string OwnerConnectionString { get; }

    /// <summary>Runs once the migrations are applied (an empty embedded database gets the demo data).</summary>
    Task OnMigratedAsync(CancellationToken cancellationToken);
}
