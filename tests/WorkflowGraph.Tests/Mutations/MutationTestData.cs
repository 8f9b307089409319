using Npgsql;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;

namespace WorkflowGraph.Tests.Mutations;

/// <summary>A fresh workflow with three nodes in one organisation, committed, so mutation tests do not share rows.</summary>
internal sealed record FreshWorkflow(Guid OrgId, Guid Id, int[] Nodes)
{
    public static async Task<FreshWorkflow> CreateAsync(GraphApiFixture api, Guid? org = null)
    {
        var orgId = org ?? GraphApiFixture.OrgA;
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var id = await conn.ScalarAsync<Guid>("INSERT INTO workflows (org_id, name) VALUES ($1, $2) RETURNING id",
            orgId, $"wf {Guid.NewGuid():N}");
        var nodes = new int[3];
        for (var i = 0; i < nodes.Length; i++)
            nodes[i] = await conn.ScalarAsync<int>(
                "INSERT INTO workflow_nodes (org_id, workflow_id, name, node_type, position) " +
                "VALUES ($1, $2, $3, 'action', $4) RETURNING id",
                orgId, id, $"node {i + 1}", i + 1);
        return new FreshWorkflow(orgId, id, nodes);
    }

    public static async Task<NpgsqlConnection> OwnerAsync(GraphApiFixture api) => await api.Database.DataSource.OpenConnectionAsync();
}
