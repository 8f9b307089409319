using System.Globalization;
using Npgsql;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Bench.Scenarios;

/// <summary>
/// The trace detail page with its PHI selected (the run's external id, steps' input and output, events' data, context
/// values) once the organisation classified them: node inputs' <c>member_id</c> and every context key as PHI, the
/// external_id column as PHI. A viewer whose token carries <c>phi:read</c> (PHI unmasked) next to one without (masked),
/// same service, same run. The classification is removed again at the end, so the other scenarios read unclassified
/// data. The figure before PHI governance is the trace detail scenario of a build without it.
/// </summary>
public sealed class PhiTraceDetailScenario : IScenario
{
    private const string Query = """
        query ($id: ID!) { trace(id: $id) {
            id status channel externalId startTime endTime durationMs errorMessage configSnapshot workflow { name }
            steps { id stepNumber status retryCount durationMs errorMessage inputData outputData startTime endTime }
            events { id stepId eventType eventData createdAt }
            context { key value } } }
        """;

    public string Name => "phi: trace detail, PHI selected (phi:read vs masked)";

    public ScenarioGoals Goals { get; } = new();

    public async Task<IReadOnlyList<LoadResult>> RunAsync(BenchContext bench)
    {
        var ids = await bench.RecentTracesAsync();
        var globalIds = ids.Select(id => GlobalId.Encode("WorkflowTrace", id.ToString(CultureInfo.InvariantCulture))).ToList();
        var scoped = "Bearer " + DevelopmentTokens.Sign(TokenSettings.KeyFrom(bench.SigningKey), new Dictionary<string, object>
        {
            [TokenTenant.UserClaim] = BenchContext.Viewer.ToString(),
            [TokenTenant.OrgClaim] = BenchContext.Org.ToString(),
            [TokenTenant.RoleClaim] = TokenTenant.RoleName(TenantRole.Viewer),
            [TokenTenant.ScopeClaim] = "openid " + TokenTenant.PhiReadScope,
        }, TimeSpan.FromHours(6));

        Func<int, Task<Func<CancellationToken, Task>>> Walk(string token) => client =>
        {
            var next = client * globalIds.Count / bench.Options.Clients;
            return Task.FromResult<Func<CancellationToken, Task>>(ct =>
                BenchContext.PostAsync(bench.ServiceHttp, token, Query, new { id = globalIds[next++ % globalIds.Count] }, ct));
        };

        await ClassifyAsync(bench, classify: true);
        try
        {
            var sample = System.Text.Encoding.UTF8.GetString(await BenchContext.PostAsync(bench.ServiceHttp, bench.ViewerToken, Query,
                new { id = globalIds[0] }, CancellationToken.None));
            var masked = sample.Contains("[REDACTED]", StringComparison.Ordinal);
            bench.Log.WriteLine($"  without phi:read the page reads {(masked ? "masked" : "UNMASKED")}");
            return
            [
                await bench.MeasureAsync(Name, Server.WorkflowGraph, Walk(scoped)),
                await bench.MeasureAsync(Name, Server.WorkflowGraphPhiMasked, Walk(bench.ViewerToken)),
            ];
        }
        finally
        {
            await ClassifyAsync(bench, classify: false);
        }
    }

    private static async Task ClassifyAsync(BenchContext bench, bool classify)
    {
        string[] statements = classify
            ?
            [
                "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, sensitivity) " +
                "SELECT org_id, id, 'input', 'member_id', 'string', 'phi' FROM workflow_nodes WHERE org_id = $1 " +
                "ON CONFLICT (node_id, direction, field_name) DO UPDATE SET sensitivity = 'phi'",
                "INSERT INTO phi_classification_rules (org_id, target, key, sensitivity) " +
                "SELECT $1, 'context_key', k, 'phi' FROM unnest(ARRAY['member_id', 'payer', 'claim']) k " +
                "UNION ALL SELECT $1, 'column', 'external_id', 'phi' " +
                "ON CONFLICT (org_id, target, key) DO UPDATE SET sensitivity = 'phi'",
            ]
            :
            [
                "DELETE FROM node_io_requirements WHERE org_id = $1 AND field_name = 'member_id' AND sensitivity = 'phi'",
                "DELETE FROM phi_classification_rules WHERE org_id = $1",
            ];
        foreach (var statement in statements)
        {
            await using var command = bench.Database.CreateCommand(statement);
            command.Parameters.Add(new NpgsqlParameter { Value = BenchContext.Org });
            await command.ExecuteNonQueryAsync();
        }
    }

}
