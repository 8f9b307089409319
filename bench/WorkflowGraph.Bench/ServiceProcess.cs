using System.Diagnostics;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Bench;

/// <summary>The service as its own process (Release build next to the benchmark), listening on a free loopback port.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Process Process => _process;

    public Uri Address { get; }

    /// <param name="environment">More settings of this process (e.g. <c>OTEL_SDK_DISABLED</c>), as variables.</param>
    /// <param name="logins">The service's own login and the owner that migrates (as production runs it: the service's
    /// login is no superuser and owns nothing).</param>
    public static ServiceProcess Start(ServiceLogins logins, string signingKey, TextWriter log,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreeTcpPort.Next();
        var dll = Path.Combine(AppContext.BaseDirectory, "WorkflowGraph.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__WorkflowGraph"] = logins.Service;
        start.Environment["ConnectionStrings__WorkflowGraphOwner"] = logins.Owner;
        start.Environment["Auth__SigningKey"] = signingKey;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // one organisation's clients are the whole load here: its request rate must not be what is measured
        start.Environment["RateLimits__RequestsPerSecond"] = "0";
        // nor its number of subscriptions (the fan-out puts thousands on two organisations)
        start.Environment["RateLimits__SubscriptionsPerOrganisation"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the service");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine("  service: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.WriteLine("  service: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"));
    }

    public Task WaitReadyAsync() =>
        ReadinessProbe.WaitAsync("service", _process, Address, TimeSpan.FromSeconds(30), http => http.GetAsync("/healthz"));

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
