using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>Events written without touching a run's context (a step started: one <c>step_started</c> event, or two for a
/// run that was still pending), so that a transaction holding the context table holds back only selections reading it.</summary>
internal static class LaneWrites
{
    public static Task StartStepAsync(DatabaseFixture database, long traceId, int stepNumber, Guid? org = null) =>
        StartStepsAsync(database, traceId, stepNumber, 1, org);

    /// <summary>Starts steps <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1 in one
    /// transaction: their events commit together.</summary>
    public static async Task StartStepsAsync(DatabaseFixture database, long traceId, int first, int count, Guid? org = null)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await connection.ExecAsync(
            "SELECT start_workflow_step($1, $2, s, '{\"member_id\": \"M1\"}'::jsonb) FROM generate_series($3::int, $3::int + $4 - 1) s",
            traceId, GraphQLWsServer.WorkflowOf(org ?? GraphApiFixture.OrgA).FirstNodeId, first, count);
    }

    /// <summary>Waits until the organisation's feed has built and handed out everything its read gave its lanes.</summary>
    public static async Task LanesIdleAsync(IServiceProvider services, Guid org)
    {
        var feeds = services.GetRequiredService<FeedRegistry>();
        var deadline = Stopwatch.StartNew();
        while (feeds.TryGet(org, out var feed) && feed.LaneBacklog > 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"the lanes still hold {feed.LaneBacklog} events");
            await Task.Delay(20);
        }
    }
}
