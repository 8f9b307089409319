using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Subscriptions;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// Subscriptions: each event delivered with classified values unmasked writes one phi_access_audit record before it is
/// sent; masked deliveries write none; an event whose record cannot be written is not sent and the subscription ends
/// with PHI_AUDIT_FAILED. Organisations of their own, replays from a cursor (no timing).
/// </summary>
public sealed class PhiSubscriptionAuditTests(SubscriptionHost host) : IClassFixture<SubscriptionHost>
{
    private async Task<(TenantWorld World, long TraceId, string Cursor, string MemberId)> RunAsync(string label)
    {
        var memberId = "M-" + Guid.NewGuid().ToString("N")[..12];
        TenantWorld world;
        long traceId;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            world = await TenantWorld.CreateAsync(conn, label);
            await conn.ExecAsync(
                "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, sensitivity) " +
                "VALUES ($1, $2, 'input', 'memberId', 'string', 'phi')", world.OrgId, world.NodeIds[0]);
            traceId = await world.StartRunAsync(conn);
        }
        var cursorQuery = $$"""{ trace(id: "{{Ids.Trace(traceId)}}") { events { cursor } } }""";
        var cursor = (await TestSubscription.QueryAsync(host.Services, world.OrgId, cursorQuery))
            .GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString()!;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            var step = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, $3::jsonb)", traceId, world.NodeIds[0],
                $$"""{"memberId": "{{memberId}}"}""");
            await conn.ExecAsync("SELECT complete_workflow_step($1, 'completed', '{}'::jsonb, NULL)", step);
        }
        return (world, traceId, cursor, memberId);
    }

    private static string Document(long traceId, string cursor) => $$"""
        subscription Follow {
          workflowEvents(traceId: "{{Ids.Trace(traceId)}}", after: "{{cursor}}") { eventType step { inputData } }
        }
        """;

    private async Task<List<(long[] TraceIds, string[] Fields, string? Operation, string Text)>> RecordsAsync(Guid org)
    {
        await using var conn = await host.Database.DataSource.OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT trace_ids, fields, operation_name, row_to_json(a)::text FROM phi_access_audit a WHERE org_id = $1 ORDER BY seq", conn);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = org });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long[], string[], string?, string)>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetFieldValue<long[]>(0), reader.GetFieldValue<string[]>(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3)));
        return rows;
    }

    [Fact]
    public async Task Each_event_delivered_unmasked_is_one_record_and_masked_deliveries_none()
    {
        var (world, traceId, cursor, memberId) = await RunAsync("PHI audit feed");
        await using (var masked = await TestSubscription.StartAsync(host.Services, world.OrgId, Document(traceId, cursor)))
        {
            Assert.Null(masked.Errors);
            await masked.NextAsync();
            await masked.NextAsync();
        }
        Assert.Empty(await RecordsAsync(world.OrgId));

        await using var whole = await TestSubscription.StartAsync(host.Services, world.OrgId, Document(traceId, cursor), phiRead: true);
        Assert.Null(whole.Errors);
        var started = (await whole.NextAsync()).GetRawText();
        var completed = (await whole.NextAsync()).GetRawText();
        Assert.Contains(memberId, started + completed, StringComparison.Ordinal);
        // each event is sent after its record is committed
        var records = await RecordsAsync(world.OrgId);
        Assert.Equal(2, records.Count);
        foreach (var (traceIds, fields, operation, text) in records)
        {
            Assert.Equal([traceId], traceIds);
            Assert.Equal(["WorkflowStep.inputData"], fields);
            Assert.Equal("Follow", operation);
            Assert.DoesNotContain(memberId, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_event_whose_record_cannot_be_written_is_not_sent_and_the_subscription_ends()
    {
        var (world, traceId, cursor, memberId) = await RunAsync("PHI audit feed failing");
        await using var owner = await host.Database.DataSource.OpenConnectionAsync();
        // this class's own database: no other test writes records here while INSERT is revoked
        await owner.ExecAsync("REVOKE INSERT ON phi_access_audit FROM workflowgraph_app");
        try
        {
            await using var whole = await TestSubscription.StartAsync(host.Services, world.OrgId, Document(traceId, cursor), phiRead: true);
            Assert.Null(whole.Errors);
            var ended = await whole.NextAsync();
            Assert.Equal("PHI_AUDIT_FAILED", ended.GetProperty("errors")[0].GetProperty("extensions").GetProperty("code").GetString());
            Assert.DoesNotContain(memberId, ended.GetRawText(), StringComparison.Ordinal);
            Assert.Empty(await RecordsAsync(world.OrgId));
        }
        finally
        {
            await owner.ExecAsync("GRANT INSERT ON phi_access_audit TO workflowgraph_app");
        }
    }
}
