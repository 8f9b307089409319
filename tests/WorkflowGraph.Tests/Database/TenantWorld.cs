using Npgsql;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// One organisation with an operator, a workflow of three nodes and a second workflow of one node,
/// written as the owner inside the caller's transaction.
/// </summary>
internal sealed record TenantWorld(Guid OrgId, Guid UserId, Guid WorkflowId, int[] NodeIds, Guid OtherWorkflowId, int OtherNodeId)
{
    public static async Task<TenantWorld> CreateAsync(NpgsqlConnection owner, string label)
    {
        var orgId = await owner.ScalarAsync<Guid>(
            "INSERT INTO organizations (name) VALUES ($1) RETURNING id", $"{label} {Guid.NewGuid():N}");
        var userId = await owner.ScalarAsync<Guid>(
            "INSERT INTO users (org_id, email, role) VALUES ($1, $2, 'operator') RETURNING id",
            orgId, $"operator-{Guid.NewGuid():N}@example.org");
        var workflowId = await owner.ScalarAsync<Guid>(
            "INSERT INTO workflows (org_id, name) VALUES ($1, 'Eligibility Check') RETURNING id", orgId);
        var nodeIds = new int[3];
        for (var i = 0; i < nodeIds.Length; i++)
            nodeIds[i] = await owner.ScalarAsync<int>(
                "INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type, position) " +
                "VALUES ($1, $2, $3, 'action', $4) RETURNING id",
                orgId, workflowId, $"node {i + 1}", i + 1);
        var otherWorkflowId = await owner.ScalarAsync<Guid>(
            "INSERT INTO workflows (org_id, name) VALUES ($1, 'Claim Status') RETURNING id", orgId);
        var otherNodeId = await owner.ScalarAsync<int>(
            "INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type) VALUES ($1, $2, 'dial', 'voice_call') RETURNING id",
            orgId, otherWorkflowId);
        return new TenantWorld(orgId, userId, workflowId, nodeIds, otherWorkflowId, otherNodeId);
    }

    public Task<long> StartRunAsync(NpgsqlConnection conn, string channel = "web", string? externalId = null) =>
        conn.ScalarAsync<long>(
            "SELECT start_workflow_execution($1, $2::workflow_channel, $3, NULL, NULL)", WorkflowId, channel, externalId);

    public Task<long> StartStepAsync(NpgsqlConnection conn, long traceId, int stepNumber, int nodeIndex = 0) =>
        conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, $3, '{\"input\": 1}'::jsonb)", traceId, NodeIds[nodeIndex], stepNumber);

    public static Task CompleteStepAsync(NpgsqlConnection conn, long stepId, string status, string? error = null) =>
        conn.ExecAsync("SELECT complete_workflow_step($1, $2::step_status, '{\"output\": 1}'::jsonb, $3)", stepId, status, error);
}
