using System.Diagnostics;
using WorkflowGraph.Hosting;
using WorkflowGraph.Tests.Auth;

namespace WorkflowGraph.Tests.Instances;

/// <summary>
/// The service as an OS process of its own (the build next to the tests, <c>dotnet WorkflowGraph.dll</c>) on a fixed
/// loopback port, so that it can be stopped with SIGTERM and started again where its clients knew it.
/// </summary>
public sealed class ServiceInstance : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly Queue<string> _output = new();
    private Process? _process;

    private ServiceInstance(string connectionString, IReadOnlyDictionary<string, string> settings)
    {
        (_connectionString, _settings) = (connectionString, settings);
        Port = FreeTcpPort.Next();
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/graphql");

    public static async Task<ServiceInstance> StartAsync(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var instance = new ServiceInstance(connectionString, settings ?? new Dictionary<string, string>());
        await instance.StartAsync();
        return instance;
    }

    /// <summary>Starts the process (again) and waits until <c>/healthz/ready</c> answers 200.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "WorkflowGraph.dll")])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__WorkflowGraph"] = _connectionString;
        start.Environment["Auth__SigningKey"] = TestTokens.SigningKey;
        start.Environment["ASPNETCORE_URLS"] = BaseUrl;
        start.Environment["Database__Migrate"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // the lifetime's and the service's own steps, kept for the message of a stop that does not end
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        start.Environment["Logging__LogLevel__Microsoft.Extensions.Hosting"] = "Debug";
        start.Environment["Logging__LogLevel__WorkflowGraph"] = "Information";
        foreach (var (key, value) in _settings)
            start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the service");
        // read its output so that it never blocks on a full pipe
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitReadyAsync();
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops it, and waits for it to exit: within the host's shutdown timeout (30 s with no
    /// drain window, <see cref="ShutdownServices"/>) and a margin, or the test fails with what the process wrote last.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process)
            return;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
            await kill.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the service on port {Port} did not exit within 45 s of SIGTERM; its last output:\n{Output()}");
        }
    }

    /// <summary>The last lines the process wrote (standard output and error), oldest first.</summary>
    public string Output()
    {
        lock (_output)
            return string.Join('\n', _output);
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > 200)
                _output.Dequeue();
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_process!.HasExited, $"the service on port {Port} exited with {(_process.HasExited ? _process.ExitCode : 0)}");
            try
            {
                using var ready = await http.GetAsync(BaseUrl + "/healthz/ready");
                if (ready.IsSuccessStatusCode)
                    return;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"the service on port {Port} did not become ready");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}
