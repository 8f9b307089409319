using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WorkflowGraph.Bench.Scenarios;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Bench;

/// <summary>
/// The hand-written pages (<see cref="DirectPages"/>) behind the least HTTP a careful engineer would put in front of
/// them, in a process of their own: Kestrel, two GET routes, the Authorization header compared with the one token the
/// bench sends (no more than a validated-token cache hit costs), the page's statements in one round trip and its JSON
/// written into the response. No GraphQL, no parsing of a request body. It measures what HTTP alone costs on top of the
/// in-process direct baseline, so the service's throughput can be read against the ceiling of any HTTP server of the
/// same pages.
/// </summary>
public static class DirectHttpServer
{
    /// <summary>The bench's first argument that makes the process this server instead of the benchmark.</summary>
    public const string Mode = "serve-direct-pages";

    private const string ConnectionVariable = "BENCH_DIRECT_CONNECTION";
    private const string AuthorizationVariable = "BENCH_DIRECT_AUTHORIZATION";
    private const string PoolVariable = "BENCH_DIRECT_POOL";

    public static async Task<int> RunAsync()
    {
        var connection = Environment.GetEnvironmentVariable(ConnectionVariable)
            ?? throw new InvalidOperationException(ConnectionVariable + " is not set");
        var authorization = Environment.GetEnvironmentVariable(AuthorizationVariable)
            ?? throw new InvalidOperationException(AuthorizationVariable + " is not set");
        var pool = int.Parse(Environment.GetEnvironmentVariable(PoolVariable) ?? "20", CultureInfo.InvariantCulture);
        await using var database = new DirectDatabase(connection, pool);
        // a page's writer is reused, one per request in flight
        var writers = new ConcurrentBag<DirectPages>();

        // the dashboard, or the trace detail of the run given
        async Task Serve(HttpContext http, long? run)
        {
            if (http.Request.Headers.Authorization != authorization)
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            var page = writers.TryTake(out var free) ? free : new DirectPages();
            try
            {
                var ct = http.RequestAborted;
                if (await (run is { } id ? page.TraceAsync(database, id, ct) : page.DashboardAsync(database, ct)) == 0)
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                http.Response.ContentType = "application/json";
                http.Response.ContentLength = page.LastPage.Length;
                await http.Response.Body.WriteAsync(page.LastPage, ct);
            }
            finally
            {
                writers.Add(page);
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/ready", () => Results.Ok());
        app.MapGet("/dashboard", new RequestDelegate(http => Serve(http, null)));
        app.MapGet("/traces/{id:long}", new RequestDelegate(http =>
            Serve(http, long.Parse((string)http.Request.RouteValues["id"]!, CultureInfo.InvariantCulture))));
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// Starts the server as a child process on a free loopback port, with the service's runtime settings (workstation
    /// GC, no thread-pool spinning), and waits until it answers.
    /// </summary>
    public static async Task<DirectHttpProcess> StartAsync(BenchContext bench)
    {
        var port = FreeTcpPort.Next();
        var start = new ProcessStartInfo("dotnet", [typeof(DirectHttpServer).Assembly.Location, Mode])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment[ConnectionVariable] = bench.OwnerConnection;
        start.Environment[AuthorizationVariable] = bench.ViewerToken;
        start.Environment[PoolVariable] = (bench.Options.Clients + 4).ToString(CultureInfo.InvariantCulture);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the direct HTTP server");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) bench.Log.WriteLine("  direct HTTP: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) bench.Log.WriteLine("  direct HTTP: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new DirectHttpProcess(process, new Uri($"http://127.0.0.1:{port}"), bench.Options.Clients);
        try
        {
            await ReadinessProbe.WaitAsync("direct HTTP server", process, server.Address, TimeSpan.FromSeconds(30),
                http => http.GetAsync("/ready"));
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }
}

/// <summary>A running <see cref="DirectHttpServer"/> and a client for it.</summary>
public sealed class DirectHttpProcess(Process process, Uri address, int clients) : IDisposable
{
    public Process Process => process;

    public Uri Address => address;

    public HttpClient Http { get; } = BenchContext.Client(address, clients);

    public void Dispose()
    {
        Http.Dispose();
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
