using System.Text.Json;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Subscriptions;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// Subscription payloads: the live feed reads for all of an organisation's subscribers in one statement, and each
/// subscriber's payload is masked by its own token's scope. Replays from a cursor, so nothing depends on timing.
/// </summary>
public sealed class PhiSubscriptionTests(SubscriptionHost host) : IClassFixture<SubscriptionHost>
{
    [Fact]
    public async Task Each_subscriber_gets_payloads_masked_by_its_own_scope_and_another_organisation_gets_nothing()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        var (memberId, externalId, error) = ("M-" + tag, "CLAIM-" + tag, "member " + tag + " not found");
        TenantWorld world;
        TenantWorld other;
        long traceId;
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            world = await TenantWorld.CreateAsync(conn, "PHI feed");
            other = await TenantWorld.CreateAsync(conn, "PHI feed other");
            await conn.ExecAsync(
                "INSERT INTO node_io_requirements (org_id, node_id, direction, field_name, field_type, sensitivity) " +
                "VALUES ($1, $2, 'input', 'memberId', 'string', 'phi')", world.OrgId, world.NodeIds[0]);
            await conn.ExecAsync("INSERT INTO phi_classification_rules (org_id, target, key, sensitivity) " +
                                 "VALUES ($1, 'column', 'external_id', 'phi'), ($1, 'column', 'error_message', 'pii')", world.OrgId);
            traceId = await world.StartRunAsync(conn, externalId: externalId);
        }
        var cursorQuery = $$"""{ trace(id: "{{Ids.Trace(traceId)}}") { events { cursor } } }""";
        var cursor = (await TestSubscription.QueryAsync(host.Services, world.OrgId, cursorQuery))
            .GetProperty("data").GetProperty("trace").GetProperty("events")[0].GetProperty("cursor").GetString();
        await using (var conn = await host.Database.DataSource.OpenConnectionAsync())
        {
            var step = await conn.ScalarAsync<long>("SELECT start_workflow_step($1, $2, 1, $3::jsonb)", traceId, world.NodeIds[0],
                $$"""{"memberId": "{{memberId}}"}""");
            await conn.ExecAsync("SELECT complete_workflow_step($1, 'failed', NULL, $2)", step, error);
        }

        var document = $$"""
            subscription {
              workflowEvents(traceId: "{{Ids.Trace(traceId)}}", after: "{{cursor}}") {
                eventType eventData trace { externalId errorMessage } step { inputData errorMessage }
              }
            }
            """;
        await using var masked = await TestSubscription.StartAsync(host.Services, world.OrgId, document);
        await using var whole = await TestSubscription.StartAsync(host.Services, world.OrgId, document, phiRead: true);
        Assert.Null(masked.Errors);
        Assert.Null(whole.Errors);

        var maskedEvents = new[] { await masked.NextAsync(), await masked.NextAsync() }.Select(e => e.GetRawText()).ToList();
        var wholeEvents = new[] { await whole.NextAsync(), await whole.NextAsync() }.Select(e => e.GetRawText()).ToList();
        foreach (var planted in new[] { memberId, externalId, tag })
            Assert.DoesNotContain(planted, string.Join("\n", maskedEvents), StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", maskedEvents[1], StringComparison.Ordinal);
        var failed = JsonDocument.Parse(maskedEvents[1]).RootElement.GetProperty("data").GetProperty("workflowEvents");
        Assert.Equal("step_failed", failed.GetProperty("eventType").GetString());
        Assert.Equal("[REDACTED]", failed.GetProperty("eventData").GetProperty("error_message").GetString());
        Assert.Equal("failed", failed.GetProperty("eventData").GetProperty("status").GetString());
        Assert.Equal("[REDACTED]", failed.GetProperty("step").GetProperty("inputData").GetProperty("memberId").GetString());

        var all = string.Join("\n", wholeEvents);
        foreach (var planted in new[] { memberId, externalId, error })
            Assert.Contains(planted, all, StringComparison.Ordinal);
        Assert.DoesNotContain("[REDACTED]", all, StringComparison.Ordinal);

        // another organisation's subscriber, with phi:read, receives nothing of this run (its replay ends at once)
        await using var foreign = await TestSubscription.StartAsync(host.Services, other.OrgId, document, phiRead: true);
        Assert.Null(foreign.Errors);
        Assert.False(await foreign.AnyWithinAsync(TimeSpan.FromMilliseconds(500)));
    }
}
