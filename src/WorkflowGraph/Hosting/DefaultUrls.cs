namespace WorkflowGraph.Hosting;

public static class DefaultUrls
{
    public const string Local = "http://127.0.0.1:5000";

    /// <summary>
    /// Listens on loopback only unless the operator chose otherwise (ASPNETCORE_URLS, --urls, *_PORTS or Kestrel
    /// endpoints): Kestrel's own default would also answer on ::1 and in containers on every interface.
    /// </summary>
    public static void UseLocalDefault(this ConfigureWebHostBuilder webHost, IConfiguration configuration)
    {
        string[] chosen = ["urls", "http_ports", "https_ports"];
        if (chosen.Any(key => !string.IsNullOrWhiteSpace(configuration[key]))) return;
        if (configuration.GetSection("Kestrel:Endpoints").GetChildren().Any()) return;
        webHost.UseUrls(Local);
    }
}
