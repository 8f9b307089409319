namespace WorkflowGraph.Transport.Ide;

public static class BananaCakePopEndpoints
{
    public static IServiceCollection AddBananaCakePop(this IServiceCollection services) =>
        services.AddSingleton(provider => BananaCakePop.Locate(provider.GetRequiredService<IWebHostEnvironment>()));

    /// <summary>The IDE's files below the endpoint (the page itself is served by the endpoint's GET).</summary>
    public static IEndpointRouteBuilder MapBananaCakePop(this IEndpointRouteBuilder app, string endpointPath)
    {
        app.MapMethods(endpointPath + "/{**file}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext http, string? file, BananaCakePop ide) => ide.ServeFileAsync(http, endpointPath, file ?? ""));
        return app;
    }
}
