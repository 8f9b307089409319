using WorkflowGraph.Auth;

namespace WorkflowGraph.Development;

/// <summary>The generated key kept in <c>.data/dev-signing-key</c> (see <see cref="DevelopmentKey"/>).</summary>
internal sealed class DevelopmentKeyStore(IHostEnvironment environment, ILoggerFactory loggers) : IDevelopmentKeyStore
{
    public (string Value, string? File) LoadOrCreate(string? configuredFile) =>
        DevelopmentKey.LoadOrCreate(configuredFile, environment, loggers.CreateLogger("WorkflowGraph.Auth"));
}
