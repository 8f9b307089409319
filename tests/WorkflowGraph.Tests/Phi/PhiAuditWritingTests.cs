using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// Every response that showed an unmasked PHI value writes one phi_access_audit record (who, which operation, which runs
/// and fields — never a value); a masked response, one without classified fields or one that found no row writes none.
/// Each test acts as a user of its own (a fresh <c>sub</c>) and counts only that user's records.
/// </summary>
public sealed class PhiAuditWritingTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string PhiRead = "phi:read";

    private static string TraceDetail(long traceId) => $$"""
        query TraceDetail {
          trace(id: "{{Ids.Trace(traceId)}}") {
            status externalId configSnapshot
            steps { stepNumber inputData outputData node { name } }
            context { key value }
            events { eventType eventData }
          }
        }
        """;

    private sealed record AuditRow(string Role, string? OperationName, string DocumentHash, long[] TraceIds, string[] Fields, string Text);

    private async Task<List<AuditRow>> RecordsAsync(Guid user)
    {
        await using var conn = await Mutations.FreshWorkflow.OwnerAsync(api);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT role, operation_name, document_hash, trace_ids, fields, row_to_json(a)::text FROM phi_access_audit a " +
            "WHERE user_id = $1 ORDER BY seq", conn);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = user });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<AuditRow>();
        while (await reader.ReadAsync())
            rows.Add(new AuditRow(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2),
                reader.GetFieldValue<long[]>(3), reader.GetFieldValue<string[]>(4), reader.GetString(5)));
        return rows;
    }

    private async Task<GraphResponse> ReadAsync(string query, Guid user, string? scope, object? variables = null,
        TenantRole role = TenantRole.Viewer)
    {
        var response = await api.PostAsync(query, variables, role: role, user: user, scope: scope);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response;
    }

    [Fact]
    public async Task An_unmasked_response_writes_one_record_naming_who_what_and_which_runs_and_no_value()
    {
        var world = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        var query = TraceDetail(world.TraceId);
        var response = await ReadAsync(query, user, "openid " + PhiRead);
        Assert.Contains(world.MemberId, response.Body.GetRawText(), StringComparison.Ordinal);

        var record = Assert.Single(await RecordsAsync(user));
        Assert.Equal("viewer", record.Role);
        Assert.Equal("TraceDetail", record.OperationName);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query))), record.DocumentHash);
        Assert.Equal([world.TraceId], record.TraceIds);
        Assert.Equal(
            ["WorkflowContextEntry.value", "WorkflowEvent.eventData", "WorkflowStep.inputData", "WorkflowStep.outputData",
             "WorkflowTrace.configSnapshot", "WorkflowTrace.externalId"],
            record.Fields);
        foreach (var planted in world.Planted.Append(world.Payer).Append(world.Plain))
            Assert.DoesNotContain(planted, record.Text, StringComparison.Ordinal);

        // a second response is a second record, chained after the first
        await ReadAsync(query, user, PhiRead);
        Assert.Equal(2, (await RecordsAsync(user)).Count);
        await using var conn = await Mutations.FreshWorkflow.OwnerAsync(api);
        Assert.Null(await conn.ScalarAsync<long?>("SELECT verify_phi_access_audit($1)", world.Workflow.OrgId));
    }

    [Fact]
    public async Task Concurrent_unmasked_responses_commit_together_one_record_each_and_the_chain_holds()
    {
        var world = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => api.PostAsync(TraceDetail(world.TraceId),
            role: TenantRole.Viewer, user: user, scope: PhiRead)));
        foreach (var response in responses)
            Assert.Contains(world.MemberId, response.Body.GetRawText(), StringComparison.Ordinal);
        var records = await RecordsAsync(user);
        Assert.Equal(12, records.Count);
        Assert.All(records, r => Assert.Equal([world.TraceId], r.TraceIds));
        await using var conn = await Mutations.FreshWorkflow.OwnerAsync(api);
        Assert.Null(await conn.ScalarAsync<long?>("SELECT verify_phi_access_audit($1)", world.Workflow.OrgId));
    }

    [Fact]
    public async Task Masked_responses_responses_without_classified_fields_and_empty_ones_write_nothing()
    {
        var world = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        var masked = await ReadAsync(TraceDetail(world.TraceId), user, scope: null);
        Assert.DoesNotContain(world.MemberId, masked.Body.GetRawText(), StringComparison.Ordinal);
        await ReadAsync(TraceDetail(world.TraceId), user, scope: "phi:readx");
        // the scope, but no classified field selected
        await ReadAsync($$"""{ trace(id: "{{Ids.Trace(world.TraceId)}}") { status steps { stepNumber } } }""", user, PhiRead);
        // the scope and classified fields, but no row
        await ReadAsync($$"""{ traces(where: { workflowId: { eq: "{{Ids.Workflow(Guid.NewGuid())}}" } }) { nodes { externalId } } }""",
            user, PhiRead);
        await ReadAsync($$"""{ trace(id: "{{Ids.Trace(long.MaxValue)}}") { externalId } }""", user, PhiRead);
        Assert.Empty(await RecordsAsync(user));
    }

    [Fact]
    public async Task Several_root_fields_make_one_record_with_the_runs_actually_returned()
    {
        var first = await PhiWorld.CreateAsync(api);
        var second = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        var workflow = Ids.Workflow(first.Workflow.Id);
        var query = $$"""
            {
              traces(first: 1, where: { workflowId: { eq: "{{workflow}}" } }) { nodes { externalId } }
              node(id: "{{Ids.Trace(second.TraceId)}}") { ... on WorkflowTrace { steps { inputData } } }
              workflowContext(traceId: "{{Ids.Trace(second.TraceId)}}") { value }
              other: trace(id: "{{Ids.Trace(second.TraceId)}}") { status }
            }
            """;
        await ReadAsync(query, user, PhiRead);
        var record = Assert.Single(await RecordsAsync(user));
        Assert.Equal(["WorkflowContextEntry.value", "WorkflowStep.inputData", "WorkflowTrace.externalId"], record.Fields);
        Assert.Equal([first.TraceId, second.TraceId], record.TraceIds.Order());
    }

    [Fact]
    public async Task Runs_reached_through_a_relation_to_other_runs_are_recorded()
    {
        var world = await PhiWorld.CreateAsync(api);
        var child = await PhiWorld.CreateAsync(api);
        await using (var conn = await Mutations.FreshWorkflow.OwnerAsync(api))
            await conn.ExecAsync("UPDATE workflow_trace SET parent_trace_id = $1 WHERE id = $2", world.TraceId, child.TraceId);
        var rerunId = child.TraceId;

        var user = Guid.NewGuid();
        await ReadAsync($$"""{ trace(id: "{{Ids.Trace(world.TraceId)}}") { status reruns { externalId } } }""", user, PhiRead);
        var record = Assert.Single(await RecordsAsync(user));
        Assert.Equal([rerunId], record.TraceIds);
        Assert.Equal(["WorkflowTrace.externalId"], record.Fields);
    }

    [Fact]
    public async Task An_unmasked_mutation_payload_writes_one_record_and_a_masked_one_none()
    {
        var world = await PhiWorld.CreateAsync(api);
        const string Set = """
            mutation SetPatient($traceId: ID!, $value: JSON) {
              setWorkflowContext(input: { traceId: $traceId, key: "patientName", value: $value }) { entry { key value } }
            }
            """;
        var masked = Guid.NewGuid();
        await ReadAsync(Set, masked, scope: null, new { traceId = Ids.Trace(world.TraceId), value = "A " + world.Tag },
            TenantRole.Operator);
        Assert.Empty(await RecordsAsync(masked));

        var user = Guid.NewGuid();
        var response = await ReadAsync(Set, user, PhiRead, new { traceId = Ids.Trace(world.TraceId), value = "B " + world.Tag },
            TenantRole.Operator);
        Assert.Equal("B " + world.Tag,
            response.Data.GetProperty("setWorkflowContext").GetProperty("entry").GetProperty("value").GetString());
        var record = Assert.Single(await RecordsAsync(user));
        Assert.Equal("operator", record.Role);
        Assert.Equal("SetPatient", record.OperationName);
        Assert.Equal([world.TraceId], record.TraceIds);
        Assert.Equal(["WorkflowContextEntry.value"], record.Fields);
        Assert.DoesNotContain(world.Tag, record.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bulk_dry_runs_sample_shown_unmasked_writes_one_record_of_its_runs()
    {
        var world = await PhiWorld.CreateAsync(api);
        const string DryRun = """
            mutation Preview($where: WorkflowTraceFilterInput!) {
              bulkCancelWorkflowExecutions(input: { where: $where, reason: "payer outage", dryRun: true }) {
                matched sample { rowId externalId } errors { __typename }
              }
            }
            """;
        var where = new { workflowId = new { eq = Ids.Workflow(world.Workflow.Id) } };
        var masked = Guid.NewGuid();
        var hidden = await ReadAsync(DryRun, masked, scope: null, new { where }, TenantRole.Operator);
        Assert.DoesNotContain(world.ExternalId, hidden.Body.GetRawText(), StringComparison.Ordinal);
        Assert.Empty(await RecordsAsync(masked));

        var user = Guid.NewGuid();
        var response = await ReadAsync(DryRun, user, PhiRead, new { where }, TenantRole.Operator);
        var preview = response.Data.GetProperty("bulkCancelWorkflowExecutions");
        Assert.Equal(1, preview.GetProperty("matched").GetInt32());
        Assert.Equal(world.ExternalId, preview.GetProperty("sample")[0].GetProperty("externalId").GetString());
        var record = Assert.Single(await RecordsAsync(user));
        Assert.Equal("Preview", record.OperationName);
        Assert.Equal([world.TraceId], record.TraceIds);
        Assert.Equal(["WorkflowTrace.externalId"], record.Fields);
    }

    [Fact]
    public async Task A_record_belongs_to_the_organisation_of_the_token()
    {
        var theirs = await PhiWorld.CreateAsync(api, GraphApiFixture.OrgB);
        var user = Guid.NewGuid();
        var response = await api.PostAsync(TraceDetail(theirs.TraceId), org: GraphApiFixture.OrgB, role: TenantRole.Admin, user: user,
            scope: PhiRead);
        Assert.Equal(JsonValueKind.Object, response.Data.GetProperty("trace").ValueKind);
        await using var conn = await Mutations.FreshWorkflow.OwnerAsync(api);
        Assert.Equal(GraphApiFixture.OrgB, await conn.ScalarAsync<Guid>("SELECT org_id FROM phi_access_audit WHERE user_id = $1", user));

        // organisation A's token reads nothing of B's run, so nothing is recorded for it
        var stranger = Guid.NewGuid();
        var foreign = await api.PostAsync(TraceDetail(theirs.TraceId), role: TenantRole.Admin, user: stranger, scope: PhiRead);
        Assert.Equal(JsonValueKind.Null, foreign.Data.GetProperty("trace").ValueKind);
        Assert.Empty(await RecordsAsync(stranger));
    }
}
