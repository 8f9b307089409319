using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>Every mutation refuses a role below its own before any SQL runs.</summary>
public sealed class MutationRoleTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string AnyUuid = "00000000-0000-4000-8000-000000000000";
    private static readonly string AnyWorkflow = Ids.Of("Workflow", AnyUuid);
    private static readonly string AnyConfig = Ids.Of("WorkflowConfig", AnyUuid);
    private static readonly string AnyTrace = Ids.Trace(1);
    private static readonly string AnyStep = Ids.Step(1);
    private static readonly string AnyNode = Ids.Node(1);

    public static readonly TheoryData<string, TenantRole> Mutations = new()
    {
        { "startWorkflowExecution(input: { workflowId: \"" + AnyWorkflow + "\", channel: WEB }) { errors { __typename } }",
            TenantRole.Operator },
        { "completeWorkflowExecution(input: { traceId: \"" + AnyTrace + "\", status: FAILED }) { errors { __typename } }",
            TenantRole.Operator },
        {
            "startWorkflowStep(input: { traceId: \"" + AnyTrace + "\", nodeId: \"" + AnyNode + "\", stepNumber: 1 }) " +
            "{ errors { __typename } }",
            TenantRole.Operator
        },
        { "completeWorkflowStep(input: { stepId: \"" + AnyStep + "\", status: COMPLETED }) { errors { __typename } }",
            TenantRole.Operator },
        { "retryWorkflowStep(input: { stepId: \"" + AnyStep + "\" }) { errors { __typename } }", TenantRole.Operator },
        { "setWorkflowContext(input: { traceId: \"" + AnyTrace + "\", key: \"k\", value: 1 }) { errors { __typename } }",
            TenantRole.Operator },
        { "cleanupOldExecutionData(input: { retentionDays: 30 }) { errors { __typename } }", TenantRole.Admin },
        { "createWorkflowConfig(input: { configType: GLOBAL, config: {} }) { errors { __typename } }", TenantRole.Admin },
        { "activateWorkflowConfig(input: { configId: \"" + AnyConfig + "\" }) { errors { __typename } }", TenantRole.Admin },
        { "upsertChannelConfig(input: { channel: WEB, config: {} }) { errors { __typename } }", TenantRole.Admin },
        {
            "setWorkflowChannelConfig(input: { workflowId: \"" + AnyWorkflow + "\", channel: WEB, isEnabled: true }) " +
            "{ errors { __typename } }",
            TenantRole.Admin
        },
        {
            "upsertNodeIoRequirement(input: { nodeId: \"" + AnyNode + "\", direction: \"input\", fieldName: \"f\", " +
            "fieldType: \"string\" }) " +
            "{ errors { __typename } }",
            TenantRole.Admin
        },
        { "deleteNodeIoRequirement(input: { id: \"" + Ids.Of("NodeIoRequirement", AnyUuid) + "\" }) { errors { __typename } }",
            TenantRole.Admin },
        {
            "createWorkflowDataBinding(input: { workflowId: \"" + AnyWorkflow + "\", targetNodeId: \"" + AnyNode + "\", " +
            "targetField: \"f\" }) " +
            "{ errors { __typename } }",
            TenantRole.Admin
        },
        { "deleteWorkflowDataBinding(input: { id: \"" + Ids.Of("WorkflowDataBinding", AnyUuid) + "\" }) { errors { __typename } }",
            TenantRole.Admin },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task A_lower_role_is_refused_and_the_required_role_gets_through(string mutation, TenantRole required)
    {
        foreach (var role in Enum.GetValues<TenantRole>().Where(r => r != TenantRole.None && r < required))
        {
            var refused = await api.PostAsync("mutation { " + mutation + " }", role: role);
            Assert.Contains("FORBIDDEN", refused.ErrorCodes);
            Assert.Empty(refused.Statements);
        }
        var allowed = await api.PostAsync("mutation { " + mutation + " }", role: required);
        Assert.DoesNotContain("FORBIDDEN", allowed.ErrorCodes);
        Assert.NotEmpty(allowed.Statements);
    }
}
