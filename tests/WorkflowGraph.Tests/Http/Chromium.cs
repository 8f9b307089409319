namespace WorkflowGraph.Tests.Http;

/// <summary>The headless browser the Banana Cake Pop checks drive.</summary>
internal static class Chromium
{
    /// <summary>Debian's package (.ci/setup.sh installs it); CHROMIUM_PATH points elsewhere.</summary>
    private static string Executable =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>The browser's path; fails the test with what to do when it is missing.</summary>
    public static string ExecutableOrFail()
    {
        var executable = Executable;
        Assert.True(File.Exists(executable),
            $"{executable} is missing: run .ci/setup.sh (apt-get install chromium) or set CHROMIUM_PATH.");
        return executable;
    }
}
