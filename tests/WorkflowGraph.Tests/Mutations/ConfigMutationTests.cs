using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>The configuration and retention mutations (admins).</summary>
public sealed class ConfigMutationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private async Task<JsonElement> AdminAsync(string query, object? variables = null, Guid? org = null)
    {
        var response = await api.PostAsync(query, variables, org ?? GraphApiFixture.OrgA, role: TenantRole.Admin);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data;
    }

    /// <summary>Runs a mutation as an admin; returns the payload of <paramref name="field"/>.</summary>
    private async Task<JsonElement> AdminPayloadAsync(string query, object? variables, string field, Guid? org = null) =>
        (await AdminAsync(query, variables, org)).GetProperty(field);

    private const string Create = """
        mutation ($workflowId: ID, $channel: WorkflowChannel, $type: ConfigType!, $config: JSON!, $activate: Boolean) {
          createWorkflowConfig(
            input: { workflowId: $workflowId, channel: $channel, configType: $type, name: "v", config: $config, activate: $activate }
          ) {
            workflowConfig { id rowId version isActive configType config workflow { id } }
            errors { __typename ... on Error { message } ... on ValidationError { fields { field } } }
          }
        }
        """;

    [Fact]
    public async Task New_versions_count_up_and_activation_moves_with_its_audit()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var v1 = (await AdminPayloadAsync(Create,
            new { workflowId = Ids.Workflow(workflow.Id), type = "WORKFLOW", config = new { retry = 1 }, activate = true },
                "createWorkflowConfig"))
            .GetProperty("workflowConfig");
        var v2 = (await AdminPayloadAsync(Create,
            new { workflowId = Ids.Workflow(workflow.Id), type = "WORKFLOW", config = new { retry = 2 } }, "createWorkflowConfig"))
            .GetProperty("workflowConfig");
        Assert.Equal(1, v1.GetProperty("version").GetInt32());
        Assert.True(v1.GetProperty("isActive").GetBoolean());
        Assert.Equal(2, v2.GetProperty("version").GetInt32());
        Assert.False(v2.GetProperty("isActive").GetBoolean());

        var activated = await AdminPayloadAsync("""
            mutation ($id: ID!) {
              activateWorkflowConfig(input: { configId: $id }) { workflowConfig { id isActive version } errors { __typename } }
            }
            """, new { id = v2.GetProperty("id").GetString() }, "activateWorkflowConfig");
        Assert.True(activated.GetProperty("workflowConfig").GetProperty("isActive").GetBoolean());

        var state = await AdminAsync($$"""
            {
              activeWorkflowConfig(workflowId: "{{Ids.Workflow(workflow.Id)}}", channel: WEB) { version }
              configStatuses(
                where: { entityId: { in: ["{{v1.GetProperty("rowId").GetGuid()}}", "{{v2.GetProperty("rowId").GetGuid()}}"] } },
                order: [{ isActive: ASC }]
              ) {
                nodes { isActive activatedBy deactivatedBy }
              }
            }
            """);
        Assert.Equal(2, state.GetProperty("activeWorkflowConfig").GetProperty("version").GetInt32());
        var statuses = state.GetProperty("configStatuses").GetProperty("nodes");
        Assert.False(statuses[0].GetProperty("isActive").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, statuses[0].GetProperty("deactivatedBy").ValueKind);
        Assert.True(statuses[1].GetProperty("isActive").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, statuses[1].GetProperty("activatedBy").ValueKind);
    }

    [Fact]
    public async Task Configuration_errors_are_typed()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var mismatch = await AdminPayloadAsync(Create,
            new { workflowId = Ids.Workflow(workflow.Id), type = "GLOBAL", config = new { } }, "createWorkflowConfig");
        Assert.Equal("ValidationError", ErrorType(mismatch));
        Assert.Equal("scopeMatchesType", ErrorField(mismatch));
        var notObject = await AdminPayloadAsync(Create, new { type = "GLOBAL", config = new[] { 1, 2 } }, "createWorkflowConfig");
        Assert.Equal("config", ErrorField(notObject));
        var unknown = await AdminPayloadAsync(Create,
            new { workflowId = Ids.Workflow(Guid.NewGuid()), type = "WORKFLOW", config = new { } }, "createWorkflowConfig");
        Assert.Equal("NotFoundError", ErrorType(unknown));
        var otherOrg = await AdminPayloadAsync(Create,
            new { workflowId = Ids.Workflow(workflow.Id), type = "WORKFLOW", config = new { } }, "createWorkflowConfig",
                GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError", ErrorType(otherOrg));
        var activateUnknown = await AdminPayloadAsync(
            $"mutation {{ activateWorkflowConfig(input: {{ " +
            $"configId: \"{Ids.Config(Guid.Parse("aaaaaaaa-3333-4000-8000-000000000002"))}\" }}) " +
            "{ errors { __typename } } }",
            null, "activateWorkflowConfig", GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError", ErrorType(activateUnknown));
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_configs WHERE workflow_id = $1", workflow.Id));
    }

    [Fact]
    public async Task Channel_settings_are_upserted_and_a_disabled_channel_refuses_runs()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        const string upsert = """
            mutation ($name: String) {
              upsertChannelConfig(input: { channel: VOICE, name: $name, config: { hold: 60 } }) { channelConfig { id name config } }
            }
            """;
        var first = (await AdminPayloadAsync(upsert, new { name = "calls" }, "upsertChannelConfig")).GetProperty("channelConfig");
        var second = (await AdminPayloadAsync(upsert, new { name = "phone" }, "upsertChannelConfig")).GetProperty("channelConfig");
        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Equal("phone", second.GetProperty("name").GetString());

        var set = await AdminPayloadAsync("""
            mutation ($w: ID!) {
              setWorkflowChannelConfig(
                input: { workflowId: $w, channel: EFAX, isEnabled: false, priority: 5, webhookUrl: "https://hooks.example.org/x" }
              ) { workflowChannelConfig { channel isEnabled priority } errors { __typename } }
            }
            """, new { w = Ids.Workflow(workflow.Id) }, "setWorkflowChannelConfig");
        Assert.False(set.GetProperty("workflowChannelConfig").GetProperty("isEnabled").GetBoolean());
        var refused = await AdminPayloadAsync("""
            mutation ($w: ID!) {
              startWorkflowExecution(input: { workflowId: $w, channel: EFAX }) {
                trace { id rowId } errors { __typename ... on Error { message } }
              }
            }
            """, new { w = Ids.Workflow(workflow.Id) }, "startWorkflowExecution");
        Assert.Equal("InvalidStateError", ErrorType(refused));
        var badUrl = await AdminPayloadAsync("""
            mutation ($w: ID!) {
              setWorkflowChannelConfig(input: { workflowId: $w, channel: WEB, isEnabled: true, webhookUrl: "ftp://x" }) {
                errors { __typename ... on ValidationError { fields { field } } }
              }
            }
            """, new { w = Ids.Workflow(workflow.Id) }, "setWorkflowChannelConfig");
        Assert.Equal("webhookUrl", ErrorField(badUrl));
        var otherOrg = await AdminPayloadAsync("""
            mutation ($w: ID!) {
              setWorkflowChannelConfig(input: { workflowId: $w, channel: WEB, isEnabled: true }) { errors { __typename } }
            }
            """, new { w = Ids.Workflow(workflow.Id) }, "setWorkflowChannelConfig", GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError", ErrorType(otherOrg));
    }

    [Fact]
    public async Task Node_requirements_and_bindings_are_managed_by_admins()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        const string upsert = """
            mutation ($node: ID!, $required: Boolean) {
              upsertNodeIoRequirement(input: {
                nodeId: $node, direction: "input", fieldName: "member_id", fieldType: "string", isRequired: $required,
                validationRules: { minLength: 3 }
              }) {
                nodeIoRequirement { id isRequired validationRules } errors { __typename }
              }
            }
            """;
        var created = (await AdminPayloadAsync(upsert, new { node = Ids.Node(workflow.Nodes[0]), required = false },
            "upsertNodeIoRequirement"))
            .GetProperty("nodeIoRequirement");
        var updated = (await AdminPayloadAsync(upsert, new { node = Ids.Node(workflow.Nodes[0]), required = true },
            "upsertNodeIoRequirement"))
            .GetProperty("nodeIoRequirement");
        Assert.Equal(created.GetProperty("id").GetString(), updated.GetProperty("id").GetString());
        Assert.True(updated.GetProperty("isRequired").GetBoolean());
        var badType = await AdminPayloadAsync("""
            mutation ($n: ID!) {
              upsertNodeIoRequirement(input: { nodeId: $n, direction: "sideways", fieldName: "f", fieldType: "string" }) {
                errors { __typename ... on ValidationError { fields { field } } }
              }
            }
            """, new { n = Ids.Node(workflow.Nodes[0]) }, "upsertNodeIoRequirement");
        Assert.Equal("direction", ErrorField(badType));
        var otherOrgNode = await AdminPayloadAsync(upsert, new { node = Ids.Node(workflow.Nodes[0]), required = true },
            "upsertNodeIoRequirement",
            GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError", ErrorType(otherOrgNode));

        const string delete = "mutation ($id: ID!) { deleteNodeIoRequirement(input: { id: $id }) { deletedId errors { __typename } } }";
        var id = created.GetProperty("id").GetString();
        Assert.Equal("NotFoundError",
            ErrorType(await AdminPayloadAsync(delete, new { id }, "deleteNodeIoRequirement", GraphApiFixture.OrgB)));
        Assert.Equal(id, (await AdminPayloadAsync(delete, new { id }, "deleteNodeIoRequirement")).GetProperty("deletedId").GetString());
        Assert.Equal("NotFoundError", ErrorType(await AdminPayloadAsync(delete, new { id }, "deleteNodeIoRequirement")));

        const string bind = """
            mutation ($w: ID!, $s: ID, $t: ID!, $type: String) {
              createWorkflowDataBinding(input: {
                workflowId: $w, sourceNodeId: $s, sourceField: "out", targetNodeId: $t, targetField: "in", bindingType: $type
              }) {
                workflowDataBinding { id bindingType sourceNode { id } targetNode { rowId } } errors { __typename }
              }
            }
            """;
        static object Bind(Guid workflowId, int source, int target) =>
            new { w = Ids.Workflow(workflowId), s = Ids.Node(source), t = Ids.Node(target) };
        async Task<string?> BindErrorAsync(object variables, Guid? org = null) =>
            ErrorType(await AdminPayloadAsync(bind, variables, "createWorkflowDataBinding", org));
        var binding = await AdminPayloadAsync(bind, Bind(workflow.Id, workflow.Nodes[0], workflow.Nodes[1]),
            "createWorkflowDataBinding");
        Assert.Equal(workflow.Nodes[1],
            binding.GetProperty("workflowDataBinding").GetProperty("targetNode").GetProperty("rowId").GetInt32());
        Assert.Equal("DuplicateError", await BindErrorAsync(Bind(workflow.Id, workflow.Nodes[2], workflow.Nodes[1])));
        Assert.Equal("ValidationError", await BindErrorAsync(Bind(workflow.Id, workflow.Nodes[1], workflow.Nodes[1])));
        var bindingId = binding.GetProperty("workflowDataBinding").GetProperty("id").GetString();
        // another organisation can neither bind this workflow's nodes nor delete its binding, and cannot tell
        // a bound field from an unbound one (both are simply not found)
        var otherWorkflow = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError",
            await BindErrorAsync(Bind(otherWorkflow.Id, otherWorkflow.Nodes[0], workflow.Nodes[1]), GraphApiFixture.OrgB));
        Assert.Equal("NotFoundError",
            await BindErrorAsync(Bind(workflow.Id, workflow.Nodes[0], workflow.Nodes[2]), GraphApiFixture.OrgB));
        Assert.Equal("NotFoundError", ErrorType(await AdminPayloadAsync(
            "mutation ($id: ID!) { deleteWorkflowDataBinding(input: { id: $id }) { deletedId errors { __typename } } }",
            new { id = bindingId }, "deleteWorkflowDataBinding", GraphApiFixture.OrgB)));
        Assert.Equal(bindingId, (await AdminPayloadAsync(
                "mutation ($id: ID!) { deleteWorkflowDataBinding(input: { id: $id }) { deletedId } }",
                new { id = bindingId }, "deleteWorkflowDataBinding"))
            .GetProperty("deletedId").GetString());
    }

    [Fact]
    public async Task Cleanup_removes_only_the_callers_old_finished_runs()
    {
        await using var conn = await FreshWorkflow.OwnerAsync(api);
        async Task<long> OldRun(Guid org, Guid workflowId) => await conn.ScalarAsync<long>(
            "INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time) " +
            "VALUES ($1, $2, 'web', 'completed', now() - interval '400 days', now() - interval '399 days') RETURNING id",
            org, workflowId);
        var a = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgA);
        var b = await FreshWorkflow.CreateAsync(api, GraphApiFixture.OrgB);
        var oldA = await OldRun(a.OrgId, a.Id);
        var oldB = await OldRun(b.OrgId, b.Id);

        var tooShort = await AdminPayloadAsync(
            "mutation { cleanupOldExecutionData(input: { retentionDays: 0 }) { tracesDeleted errors { __typename } } }",
            null, "cleanupOldExecutionData");
        Assert.Equal("ValidationError", ErrorType(tooShort));
        var cleaned = await AdminPayloadAsync("""
            mutation {
              cleanupOldExecutionData(input: { retentionDays: 365 }) {
                tracesDeleted stepsDeleted eventsDeleted partitionsDropped errors { __typename }
              }
            }
            """, null, "cleanupOldExecutionData");
        Assert.True(cleaned.GetProperty("tracesDeleted").GetInt64() >= 1);
        Assert.Equal(JsonValueKind.Array, cleaned.GetProperty("partitionsDropped").ValueKind);
        Assert.Equal(0L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE id = $1", oldA));
        Assert.Equal(1L, await conn.ScalarAsync<long>("SELECT count(*) FROM workflow_trace WHERE id = $1", oldB));
    }
}
