using System.Net;

namespace WorkflowGraph.Transport.Ide;

/// <summary>What a browser gets when the IDE package is not installed: how to install it, not an error.</summary>
public static class IdeNotInstalledPage
{
    public static Task WriteAsync(HttpContext http, string endpointPath)
    {
        var endpoint = WebUtility.HtmlEncode(http.Request.PathBase + endpointPath);
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        return http.Response.WriteAsync($$"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>WorkflowGraph – IDE not installed</title></head>
            <body style="font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; line-height: 1.5">
            <h1>Banana Cake Pop is not installed</h1>
            <p>The GraphQL IDE is served from the npm package <code>{{BananaCakePop.PackageName}}</code>, which is not
            committed to the repository. Install it from the repository root and reload this page:</p>
            <pre>.ci/setup.sh</pre>
            <p>or only the IDE:</p>
            <pre>npm ci --prefix src/WorkflowGraph/Transport/Ide</pre>
            <p>The API itself works without it: <code>POST {{endpoint}}</code> with
            <code>{"query": "{ __typename }"}</code>, and <a href="{{endpoint}}?sdl"><code>GET {{endpoint}}?sdl</code></a>
            for the schema.</p>
            </body>
            </html>
            """, http.RequestAborted);
    }
}
