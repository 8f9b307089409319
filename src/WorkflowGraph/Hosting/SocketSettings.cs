namespace WorkflowGraph.Hosting;

/// <summary>
/// How the process's sockets complete: their reads and writes go on where the operating system reported them
/// (.NET's socket engine thread) instead of being queued to the thread pool first. On the 2-core VM measured, half of the
/// service's CPU was the kernel's, mostly switching threads (futex waits, wakeups, <c>sched_yield</c>) around the thread
/// pool's hand-offs; completing inline cut the service's CPU per dashboard from 0.64–0.68 to 0.53–0.56 ms and its p99
/// from 128–147 to 47–59 ms (bench/README.md). Everything after a socket read here is asynchronous, so nothing blocks the
/// engine thread. <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> in the environment turns it off.
/// </summary>
public static class SocketSettings
{
    public const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Must run before the first socket is made: the engine reads the setting once.</summary>
    public static void CompleteInline()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
    }
}
