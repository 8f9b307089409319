using Npgsql;
using WorkflowGraph.Auth;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Exports;

/// <summary>
/// <c>GET /exports/{rowId}</c>: streams a completed export's file to a token of its organisation that may see it — the
/// user who requested it, or an admin of the organisation. Anyone else gets 404, as does a job of another organisation
/// (row level security hides it) or one without a file (not yet written, failed, expired); 401 without a valid token.
/// </summary>
public static class ExportDownloadEndpoint
{
    public const string PathPrefix = "/exports/";

    public static IEndpointRouteBuilder MapExportDownloads(this IEndpointRouteBuilder app)
    {
        app.MapGet(PathPrefix + "{id:long}", DownloadAsync);
        return app;
    }

    private static async Task<IResult> DownloadAsync(long id, HttpContext http, TokenAuthenticator tokens, NpgsqlDataSource dataSource,
        ExportStorage storage)
    {
        var outcome = await tokens.AuthenticateAsync(http.Request.Headers.Authorization, http.RequestAborted);
        if (outcome.Tenant is not { OrgId: { } orgId } tenant)
        {
            http.Response.Headers.WWWAuthenticate = outcome.TokenSent ? "Bearer error=\"invalid_token\"" : "Bearer";
            return Results.Problem(outcome.Problem, statusCode: StatusCodes.Status401Unauthorized);
        }
        var fileName = await BackgroundTransaction.RunAsync(dataSource, orgId, tenant.UserId,
            "SELECT file_name FROM export_jobs WHERE id = $1 AND status = 'completed' AND (requested_by = $2 OR $3)",
            [id, (object?)tenant.UserId ?? DBNull.Value, tenant.Role >= TenantRole.Admin],
            async (reader, ct) => await reader.ReadAsync(ct) ? reader.GetString(0) : null, http.RequestAborted);
        var path = fileName is null ? null : storage.PathOf(orgId, fileName);
        if (path is null || !File.Exists(path))
            return Results.NotFound();
        return Results.File(path, ExportStorage.ContentType(fileName!), fileName, enableRangeProcessing: true);
    }
}
