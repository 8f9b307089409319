using System.Diagnostics;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Tests.Http;

/// <summary>
/// Runs a script of tests/http-audit (or another npm project under tests/ that .ci/setup.sh installs) with node,
/// bounded in time, and fails with a message that says what to do when node or the packages are missing.
/// </summary>
internal static class NodeScript
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError);

    public static string Folder => ProjectFolder("http-audit");

    public static string ProjectFolder(string project) =>
        Path.Combine(
            RepoRoot.Find(AppContext.BaseDirectory)
                ?? throw new InvalidOperationException("WorkflowGraph.sln not found above the test binaries."),
            "tests", project);

    /// <param name="project">The npm project under tests/ the script belongs to.</param>
    public static async Task<Output> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, string project = "http-audit")
    {
        var folder = ProjectFolder(project);
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
            Assert.Fail($"{folder}/node_modules is missing: run .ci/setup.sh (it runs npm ci there).");
        var startInfo = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(script);
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);

        using var process = StartOrFail(startInfo);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node {script} did not finish within {timeout.TotalSeconds:0} s.\nstdout: {await stdout}\nstderr: {await stderr}");
        }
        return new Output(process.ExitCode, await stdout, await stderr);
    }

    private static Process StartOrFail(ProcessStartInfo startInfo)
    {
        try
        {
            return Process.Start(startInfo) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            Assert.Fail($"node could not be started ({error.Message}): install Node.js 20+ (.ci/setup.sh does on Debian).");
            throw;
        }
    }
}
