using System.Text.Json;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// Without the phi:read scope every classified value is redacted on every query path (nested lists, single objects,
/// node, functions, views, mutation payloads) and filters or orders by a classified column are FORBIDDEN; with it,
/// everything reads as stored. Each test plants identifiers in a run of its own and scans the whole response for them.
/// </summary>
public sealed class PhiMaskingTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string PhiRead = "phi:read";
    private const string Redacted = "[REDACTED]";

    private static string TraceDetail(long traceId) => $$"""
        {
          trace(id: "{{Ids.Trace(traceId)}}") {
            externalId configSnapshot errorMessage
            steps { stepNumber inputData outputData errorMessage node { name } }
            context { key value }
            events { eventType eventData step { inputData } }
            workflow { traces(first: 5) { externalId } }
          }
        }
        """;

    private async Task<string> BodyAsync(string query, string? scope, TenantRole role = TenantRole.Viewer, Guid? org = null)
    {
        var response = await api.PostAsync(query, org: org, role: role, scope: scope);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Body.GetRawText();
    }

    private static void AssertMasked(PhiWorld world, string body)
    {
        foreach (var planted in world.Planted)
            Assert.DoesNotContain(planted, body, StringComparison.Ordinal);
        Assert.Contains(Redacted, body, StringComparison.Ordinal);
    }

    private static void AssertUnmasked(string body, IEnumerable<string> expected)
    {
        foreach (var planted in expected)
            Assert.Contains(planted, body, StringComparison.Ordinal);
        Assert.DoesNotContain(Redacted, body, StringComparison.Ordinal);
    }

    /// <summary>
    /// The emit writes only the branch of a classified column that applies to the request's reader; each fails closed. The
    /// statement written for a reader with phi:read, run where the transaction does not grant it, shows no classified value
    /// (nulls); the one written for a reader without the scope, run where the transaction grants it, still masks.
    /// </summary>
    [Fact]
    public async Task A_statement_written_for_one_scope_fails_closed_in_a_transaction_of_the_other()
    {
        var world = await PhiWorld.CreateAsync(api);
        AssertUnmasked(await BodyAsync(TraceDetail(world.TraceId), PhiRead), world.Planted);
        var unmasked = Assert.Single(api.Statements.LastTaken, s => s.Sql.StartsWith("SELECT ", StringComparison.Ordinal));
        Assert.DoesNotContain("phi_mask_", unmasked.Sql, StringComparison.Ordinal);
        var shown = await RunAsync(unmasked, world.Workflow.OrgId, phiRead: false);
        foreach (var planted in world.Planted)
            Assert.DoesNotContain(planted, shown, StringComparison.Ordinal);
        // what is not classifiable reads as stored, the classifiable columns as null: the row value's fields are the
        // selection's in order (f4: steps; a step's f1: stepNumber, f2: inputData)
        var steps = JsonDocument.Parse(shown).RootElement.GetProperty("row").GetProperty("f4").EnumerateArray().ToList();
        Assert.NotEmpty(steps);
        Assert.All(steps, step => Assert.Equal(JsonValueKind.Number, step.GetProperty("f1").ValueKind));
        Assert.All(steps, step => Assert.Equal(JsonValueKind.Null, step.GetProperty("f2").ValueKind));

        AssertMasked(world, await BodyAsync(TraceDetail(world.TraceId), scope: null));
        var masked = Assert.Single(api.Statements.LastTaken, s => s.Sql.StartsWith("SELECT ", StringComparison.Ordinal));
        Assert.DoesNotContain("phi_read_allowed", masked.Sql, StringComparison.Ordinal);
        AssertMasked(world, await RunAsync(masked, world.Workflow.OrgId, phiRead: true));
    }

    /// <summary>Runs a recorded statement as the organisation's tenant with <c>app.phi_read</c> set as given; its row as JSON
    /// (PostgreSQL's <c>to_json</c>: the row value is <c>row</c>, its fields <c>f1</c>, <c>f2</c>… in the selection's order).</summary>
    private async Task<string> RunAsync(Statement statement, Guid org, bool phiRead)
    {
        await using var session = await api.Database.OpenAsTenantAsync(org);
        await session.Connection.ExecAsync($"SELECT set_config('app.phi_read', '{(phiRead ? "on" : "off")}', true)");
        await using var command = new NpgsqlCommand($"SELECT to_json(q)::text FROM ({statement.Sql}) q", session.Connection,
            session.Transaction);
        foreach (var parameter in statement.Parameters)
            command.Parameters.Add(parameter.Clone());
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_trace_with_its_nested_steps_context_and_events_is_masked_without_the_scope_and_whole_with_it()
    {
        var world = await PhiWorld.CreateAsync(api);
        var masked = await BodyAsync(TraceDetail(world.TraceId), scope: null);
        AssertMasked(world, masked);
        // what nobody classified as sensitive stays: a NONE field of a PHI node, a node without PHI fields, other keys
        Assert.Contains(world.Payer, masked, StringComparison.Ordinal);
        Assert.Contains(world.Plain, masked, StringComparison.Ordinal);
        Assert.Contains("\"plan\":\"gold\"", masked.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var trace = JsonDocument.Parse(masked).RootElement.GetProperty("data").GetProperty("trace");
        var input = trace.GetProperty("steps")[0].GetProperty("inputData");
        Assert.Equal(Redacted, input.GetProperty("memberId").GetString());
        // unclassified fields of a node with PHI fields are treated as PHI
        Assert.Equal(Redacted, input.GetProperty("note").GetString());
        Assert.Equal(Redacted, trace.GetProperty("steps")[0].GetProperty("outputData").GetProperty("extra").GetString());
        Assert.Equal(Redacted, trace.GetProperty("externalId").GetString());

        var whole = await BodyAsync(TraceDetail(world.TraceId), scope: "openid " + PhiRead);
        AssertUnmasked(whole, world.Planted);
    }

    [Fact]
    public async Task A_scope_that_only_resembles_phi_read_reads_masked()
    {
        var world = await PhiWorld.CreateAsync(api);
        foreach (var scope in new[] { "phi:readx", "PHI:READ", "phi:write openid", "" })
            AssertMasked(world, await BodyAsync(TraceDetail(world.TraceId), scope));
    }

    [Fact]
    public async Task Connections_node_functions_and_views_are_masked_without_the_scope()
    {
        var world = await PhiWorld.CreateAsync(api);
        await using (var conn = await Mutations.FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync(
                "INSERT INTO workflow_configs (org_id, workflow_id, channel, config_type, version, name, config, is_active) " +
                "VALUES ($1, $2, 'web', 'channel', 1, 'c', $3::jsonb, true)",
                world.Workflow.OrgId, world.Workflow.Id, $$"""{"memberDob": "{{world.MemberDob}}"}""");
        var workflow = Ids.Workflow(world.Workflow.Id);
        var trace = Ids.Trace(world.TraceId);
        var query = $$"""
            {
              steps(where: { trace: { workflowId: { eq: "{{workflow}}" } } }) { nodes { inputData outputData } }
              events(where: { traceId: { eq: "{{trace}}" } }) { nodes { eventData } }
              node(id: "{{trace}}") { ... on WorkflowTrace { externalId configSnapshot } }
              workflowContext(traceId: "{{trace}}") { key value }
              workflowConfigs(where: { workflowId: { eq: "{{workflow}}" } }) { nodes { config } }
              activeWorkflowConfigs(where: { workflowId: { eq: "{{workflow}}" } }) { nodes { config } }
              executionSummaries(where: { workflowId: { eq: "{{workflow}}" } }) { nodes { externalId } }
              executionTimeline(where: { traceId: { eq: "{{trace}}" } }) { nodes { eventData } }
              failedSteps(where: { workflowId: { eq: "{{workflow}}" } }) { nodes { inputData outputData externalId } }
            }
            """;
        var masked = await BodyAsync(query, scope: null);
        AssertMasked(world, masked);
        var data = JsonDocument.Parse(masked).RootElement.GetProperty("data");
        Assert.Equal(Redacted, data.GetProperty("failedSteps").GetProperty("nodes")[0].GetProperty("inputData").GetProperty("memberId")
            .GetString());
        Assert.Equal(Redacted, data.GetProperty("activeWorkflowConfigs").GetProperty("nodes")[0].GetProperty("config")
            .GetProperty("memberDob").GetString());

        var whole = await BodyAsync(query, scope: PhiRead);
        AssertUnmasked(whole, world.Planted);
    }

    [Fact]
    public async Task Mutation_payloads_are_masked_without_the_scope()
    {
        var world = await PhiWorld.CreateAsync(api);
        const string Set = """
            mutation ($traceId: ID!, $value: JSON) {
              setWorkflowContext(input: { traceId: $traceId, key: "patientName", value: $value }) {
                entry { key value }
                trace { externalId }
                errors { __typename }
              }
            }
            """;
        var name = "John " + world.Tag;
        var masked = await api.PostAsync(Set, new { traceId = Ids.Trace(world.TraceId), value = name }, role: TenantRole.Operator);
        var payload = masked.Data.GetProperty("setWorkflowContext");
        Assert.Equal(Redacted, payload.GetProperty("entry").GetProperty("value").GetString());
        Assert.Equal(Redacted, payload.GetProperty("trace").GetProperty("externalId").GetString());
        Assert.DoesNotContain(name, masked.Body.GetRawText(), StringComparison.Ordinal);

        var whole = await api.PostAsync(Set, new { traceId = Ids.Trace(world.TraceId), value = name }, role: TenantRole.Operator,
            scope: PhiRead);
        Assert.Equal(name, whole.Data.GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("value").GetString());
        Assert.Equal(world.ExternalId, whole.Data.GetProperty("setWorkflowContext").GetProperty("trace").GetProperty("externalId")
            .GetString());
    }

    [Theory]
    [InlineData("traces(where: { externalId: { eq: \"CLAIM-x\" } }) { nodes { id } }")]
    [InlineData("traces(where: { or: [{ status: { eq: FAILED } }, { externalId: { startsWith: \"CLAIM\" } }] }) { nodes { id } }")]
    [InlineData("traces(where: { externalId: { in: [\"CLAIM-x\"] } }) { nodes { id } }")]
    [InlineData("traces(order: [{ externalId: ASC }]) { nodes { id } }")]
    [InlineData("steps(where: { trace: { externalId: { eq: \"CLAIM-x\" } } }) { nodes { id } }")]
    [InlineData("steps(order: [{ trace: { externalId: DESC } }]) { nodes { id } }")]
    [InlineData("workflows { nodes { traces(where: { externalId: { eq: \"CLAIM-x\" } }) { id } } }")]
    [InlineData("executionSummaries(where: { externalId: { neq: \"CLAIM-x\" } }) { nodes { traceId } }")]
    public async Task Filters_and_orders_on_a_classified_column_are_forbidden_without_the_scope(string selection)
    {
        await PhiWorld.CreateAsync(api);
        var refused = await api.PostAsync("{ " + selection + " }", role: TenantRole.Viewer);
        Assert.Equal(["FORBIDDEN"], refused.ErrorCodes);
        Assert.True(refused.Body.GetProperty("data").ValueKind == JsonValueKind.Null
                    || !refused.Body.GetRawText().Contains("\"nodes\":[{", StringComparison.Ordinal));
        var allowed = await api.PostAsync("{ " + selection + " }", role: TenantRole.Viewer, scope: PhiRead);
        Assert.False(allowed.Body.TryGetProperty("errors", out var errors), errors.ToString());
    }

    [Fact]
    public async Task With_the_scope_a_classified_column_filters_and_an_unclassified_one_filters_for_everyone()
    {
        var world = await PhiWorld.CreateAsync(api);
        var query = $$"""{ traces(where: { externalId: { eq: "{{world.ExternalId}}" } }) { nodes { externalId } } }""";
        var found = await api.PostAsync(query, role: TenantRole.Viewer, scope: PhiRead);
        Assert.Equal(world.ExternalId, found.Data.GetProperty("traces").GetProperty("nodes")[0].GetProperty("externalId").GetString());
        var byError = await api.PostAsync($$"""
            { steps(where: { traceId: { eq: "{{Ids.Trace(world.TraceId)}}" }, errorMessage: { eq: "payer timeout" } }) { totalCount } }
            """, role: TenantRole.Viewer);
        Assert.Equal(1, byError.Data.GetProperty("steps").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Classification_is_the_organisations_own_and_another_organisation_sees_nothing_of_the_run()
    {
        var world = await PhiWorld.CreateAsync(api);
        // organisation B: the same keys, unclassified there, read as stored without the scope; filters are allowed
        var theirs = await PhiWorld.CreateAsync(api, GraphApiFixture.OrgB, classify: false);
        var body = await BodyAsync(TraceDetail(theirs.TraceId), scope: null, org: GraphApiFixture.OrgB);
        AssertUnmasked(body, [theirs.MemberId, theirs.PatientName, theirs.ExternalId, theirs.MemberDob]);
        var filtered = await api.PostAsync($$"""{ traces(where: { externalId: { eq: "{{theirs.ExternalId}}" } }) { totalCount } }""",
            org: GraphApiFixture.OrgB, role: TenantRole.Viewer);
        Assert.Equal(1, filtered.Data.GetProperty("traces").GetProperty("totalCount").GetInt32());

        // B's token, even with phi:read, reads nothing of A's run
        var foreign = await api.PostAsync(TraceDetail(world.TraceId), org: GraphApiFixture.OrgB, role: TenantRole.Admin, scope: PhiRead);
        Assert.Equal(JsonValueKind.Null, foreign.Data.GetProperty("trace").ValueKind);
        foreach (var planted in world.Planted)
            Assert.DoesNotContain(planted, foreign.Body.GetRawText(), StringComparison.Ordinal);
    }
}
