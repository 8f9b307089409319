namespace WorkflowGraph.Development;

/// <summary>
/// The OS user that owns an embedded cluster. initdb and postgres refuse to run as root, so a root process
/// hands them to an unprivileged user; anyone else runs them as themselves.
/// </summary>
public static class ServiceUser
{
    private const string Fallback = "workflowgraph";

    /// <returns>The user to <c>runuser</c> to, or null when the process is not root.</returns>
    public static async Task<string?> ResolveAsync(string? preferred = null, CancellationToken cancellationToken = default)
    {
        if (!Environment.IsPrivilegedProcess) return null;
        foreach (var candidate in new[] { preferred, "postgres", Fallback })
        {
            if (candidate is null) continue;
            var id = await ProcessRunner.RunAsync("id", ["-u", candidate], cancellationToken: cancellationToken);
            if (id.ExitCode == 0) return candidate;
        }
        await ProcessRunner.RunCheckedAsync(
            "useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Fallback],
            cancellationToken: cancellationToken);
        return Fallback;
    }

    public static async Task ChownAsync(string? user, string path, CancellationToken cancellationToken = default)
    {
        if (user is null) return;
        await ProcessRunner.RunCheckedAsync("chown", ["-R", $"{user}:", path], cancellationToken: cancellationToken);
    }
}
