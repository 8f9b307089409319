using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Transport.Ide;

/// <summary>
/// Serves Banana Cake Pop from the npm package that .ci/setup.sh installs beside this file (it is not committed),
/// the way HotChocolate's tool middleware does: the page at <c>/graphql/</c>, its files below it, and a
/// <c>bcp-config.json</c> that the page fetches from <c>&lt;page&gt;/bcp-config.json</c>.
/// </summary>
public sealed class BananaCakePop(IReadOnlyList<string> packageFolders)
{
    public const string PackageName = "@chillicream/bananacakepop-graphql-ide";
    public const string ConfigFile = "bcp-config.json";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private PhysicalFileProvider? _files;

    /// <summary>
    /// Where the package may be: under the content root (dotnet run, tests), in the repository checkout, or beside
    /// the binaries (the build copies package.json and its lock there, so `npm ci --prefix Transport/Ide` works in a
    /// published folder too).
    /// </summary>
    public static BananaCakePop Locate(IWebHostEnvironment environment)
    {
        var relative = Path.Combine("Transport", "Ide", "node_modules", PackageName);
        var folders = new List<string> { Path.Combine(environment.ContentRootPath, relative) };
        if (RepoRoot.Find(AppContext.BaseDirectory) is { } repo)
            folders.Add(Path.Combine(repo, "src", "WorkflowGraph", relative));
        folders.Add(Path.Combine(AppContext.BaseDirectory, relative));
        return new BananaCakePop(folders);
    }

    /// <summary>A browser opened the endpoint: the IDE, or a page saying how to install it.</summary>
    public async Task ServeIdeAsync(HttpContext http, string endpointPath)
    {
        var files = Files();
        if (files is null)
        {
            await IdeNotInstalledPage.WriteAsync(http, endpointPath);
            return;
        }
        // The page loads its scripts by relative URL (static/js/...), which resolve below the endpoint only from
        // "/graphql/"; from "/graphql" they would point at the site root.
        if (!http.Request.Path.Value!.EndsWith('/'))
        {
            http.Response.Redirect($"{http.Request.PathBase}{endpointPath}/{http.Request.QueryString}");
            return;
        }
        await SendAsync(http, files.GetFileInfo("index.html"));
    }

    /// <summary>A file below the endpoint: the IDE's configuration, or one of its static files.</summary>
    public async Task ServeFileAsync(HttpContext http, string endpointPath, string file)
    {
        if (file == ConfigFile)
        {
            http.Response.Headers.CacheControl = "no-cache";
            // Only development mode has a token to give; with a configured key or authority the analyst brings their own.
            var authorization = http.RequestServices.GetService<IIdeDefaultAuthorization>()?.Authorization;
            var config = BananaCakePopConfig.For(http.Request.PathBase + endpointPath, authorization);
            await http.Response.WriteAsJsonAsync(config, http.RequestAborted);
            return;
        }
        // PhysicalFileProvider refuses "..", absolute paths and hidden files, so nothing outside the package is served.
        var info = Files()?.GetFileInfo(file);
        if (info is not { Exists: true, IsDirectory: false })
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await SendAsync(http, info);
    }

    private PhysicalFileProvider? Files()
    {
        if (_files is not null) return _files;
        // Looked up again on each request until found, so `npm ci` into a running service needs no restart.
        var folder = packageFolders.FirstOrDefault(folder => File.Exists(Path.Combine(folder, "index.html")));
        return folder is null ? null : _files = new PhysicalFileProvider(folder);
    }

    private static Task SendAsync(HttpContext http, IFileInfo file)
    {
        if (!ContentTypes.TryGetContentType(file.Name, out var contentType))
            contentType = "application/octet-stream";
        if (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType.EndsWith("javascript", StringComparison.Ordinal))
            contentType += "; charset=utf-8";
        // Files under static/ carry a content hash in their name; everything else may change with the package.
        var immutable = http.Request.Path.Value!.Contains("/static/", StringComparison.Ordinal);
        http.Response.Headers.CacheControl = immutable ? "public, max-age=31536000, immutable" : "no-cache";
        return TypedResults.PhysicalFile(file.PhysicalPath!, contentType, lastModified: file.LastModified).ExecuteAsync(http);
    }
}
