using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>The same operation for two organisations returns only each one's rows, views included.</summary>
public sealed class TenancyTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private static readonly (string Field, string Relation)[] Lists =
    [
        ("traces", "workflow_trace"), ("steps", "workflow_steps"), ("events", "workflow_events"), ("workflows", "workflows"),
        ("workflowConfigs", "workflow_configs"), ("channelConfigs", "channel_configs"),
        ("workflowChannelConfigs", "workflow_channel_configs"), ("nodeIoRequirements", "node_io_requirements"),
        ("workflowDataBindings", "workflow_data_bindings"), ("configStatuses", "config_status"),
        ("activeWorkflowConfigs", "v_active_workflow_configs"), ("executionSummaries", "v_workflow_execution_summary"),
        ("channelPerformance", "v_workflow_channel_performance"), ("nodeExecutionStats", "v_node_execution_stats"),
        ("executionTimeline", "v_workflow_execution_timeline"), ("failedSteps", "v_failed_steps_analysis"),
    ];

    private static string CountQuery => "{ " + string.Join(" ", Lists.Select(l => $"{l.Field} {{ totalCount nodes {{ orgId }} }}")) + " }";

    [Fact]
    public async Task Each_organisation_sees_exactly_its_own_rows_in_every_list()
    {
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        foreach (var org in new[] { GraphApiFixture.OrgA, GraphApiFixture.OrgB })
        {
            var response = await api.PostAsync(CountQuery, org: org);
            Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
            foreach (var (field, relation) in Lists)
            {
                var list = response.Data.GetProperty(field);
                var expected = await conn.ScalarAsync<long>($"SELECT count(*) FROM {relation} WHERE org_id = $1", org);
                Assert.True(expected == list.GetProperty("totalCount").GetInt32(), $"{field} for {org}: expected {expected}");
                Assert.All(list.GetProperty("nodes").EnumerateArray(), n => Assert.Equal(org, n.GetProperty("orgId").GetGuid()));
            }
        }
    }

    [Fact]
    public async Task Without_a_token_nothing_runs()
    {
        // The organisation comes only from a valid token (Auth/); without one the request never reaches the database.
        var response = await api.PostAsync(CountQuery, anonymous: true);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.Status);
        Assert.False(response.Body.TryGetProperty("data", out _));
        Assert.Equal(["UNAUTHENTICATED"], response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task Single_objects_and_functions_of_another_organisation_are_not_found()
    {
        var workflowB = Ids.Workflow(Guid.Parse("bbbbbbbb-2222-4000-8000-000000000001"));
        var response = await api.PostAsync($$"""
            {
              trace(id: "{{Ids.Trace(41)}}") { id }
              step(id: "{{Ids.Step(1413)}}") { id }
              workflow(id: "{{workflowB}}") { id }
              activeWorkflowConfig(workflowId: "{{workflowB}}") { id }
              node(id: "{{Ids.Trace(41)}}") { id }
              nodes(ids: ["{{Ids.Step(1413)}}", "{{workflowB}}"]) { id }
            }
            """, org: GraphApiFixture.OrgA);
        var data = response.Data;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, data.GetProperty("trace").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, data.GetProperty("step").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, data.GetProperty("workflow").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, data.GetProperty("activeWorkflowConfig").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, data.GetProperty("node").ValueKind);
        Assert.Equal(["Null", "Null"], data.GetProperty("nodes").EnumerateArray().Select(n => n.ValueKind.ToString()));
        Assert.Equal(["NOT_FOUND"], response.ErrorCodes);
        var context = await api.PostAsync($"{{ workflowContext(traceId: \"{Ids.Trace(42)}\") {{ key }} }}", org: GraphApiFixture.OrgA);
        Assert.Equal(["NOT_FOUND"], context.ErrorCodes);

        var own = await api.PostAsync(
            $"{{ trace(id: \"{Ids.Trace(41)}\") {{ rowId }} workflowContext(traceId: \"{Ids.Trace(42)}\") {{ key }} " +
            $"node(id: \"{Ids.Trace(41)}\") {{ id }} }}",
            org: GraphApiFixture.OrgB);
        Assert.Equal(41, own.Data.GetProperty("trace").GetProperty("rowId").GetInt64());
        Assert.Equal(Ids.Trace(41), own.Data.GetProperty("node").GetProperty("id").GetString());
        Assert.Equal(2, own.Data.GetProperty("workflowContext").GetArrayLength());
    }
}
