using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>Every mutation refuses a role below its own before any SQL runs.</summary>
public sealed class MutationRoleTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string AnyId = "00000000-0000-4000-8000-000000000000";

    public static readonly TheoryData<string, TenantRole> Mutations = new()
    {
        { "startWorkflowExecution(input: { workflowId: \"" + AnyId + "\", channel: WEB }) { errors { __typename } }", TenantRole.Operator },
        { "completeWorkflowExecution(input: { traceId: 1, status: FAILED }) { errors { __typename } }", TenantRole.Operator },
        { "startWorkflowStep(input: { traceId: 1, nodeId: 1, stepNumber: 1 }) { errors { __typename } }", TenantRole.Operator },
        { "completeWorkflowStep(input: { stepId: 1, status: COMPLETED }) { errors { __typename } }", TenantRole.Operator },
        { "retryWorkflowStep(input: { stepId: 1 }) { errors { __typename } }", TenantRole.Operator },
        { "setWorkflowContext(input: { traceId: 1, key: \"k\", value: 1 }) { errors { __typename } }", TenantRole.Operator },
        { "cleanupOldExecutionData(input: { retentionDays: 30 }) { errors { __typename } }", TenantRole.Admin },
        { "createWorkflowConfig(input: { configType: GLOBAL, config: {} }) { errors { __typename } }", TenantRole.Admin },
        { "activateWorkflowConfig(input: { configId: \"" + AnyId + "\" }) { errors { __typename } }", TenantRole.Admin },
        { "upsertChannelConfig(input: { channel: WEB, config: {} }) { errors { __typename } }", TenantRole.Admin },
        {
            "setWorkflowChannelConfig(input: { workflowId: \"" + AnyId + "\", channel: WEB, isEnabled: true }) { errors { __typename } }",
            TenantRole.Admin
        },
        {
            "upsertNodeIoRequirement(input: { nodeId: 1, direction: \"input\", fieldName: \"f\", fieldType: \"string\" }) " +
            "{ errors { __typename } }",
            TenantRole.Admin
        },
        { "deleteNodeIoRequirement(input: { id: \"" + AnyId + "\" }) { errors { __typename } }", TenantRole.Admin },
        {
            "createWorkflowDataBinding(input: { workflowId: \"" + AnyId + "\", targetNodeId: 1, targetField: \"f\" }) " +
            "{ errors { __typename } }",
            TenantRole.Admin
        },
        { "deleteWorkflowDataBinding(input: { id: \"" + AnyId + "\" }) { errors { __typename } }", TenantRole.Admin },
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
