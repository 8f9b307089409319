using WorkflowGraph.Transport;
using WorkflowGraph.Transport.WebSockets;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>The send queues' byte bounds, per connection and per organisation, without a socket.</summary>
public sealed class SendBudgetTests
{
    [Fact]
    public void A_connection_queues_at_most_its_bytes()
    {
        var queue = new SendQueue(capacity: 100, maxBytes: 1000);
        Assert.True(queue.TryEnqueue(new byte[600]));
        Assert.False(queue.TryEnqueue(new byte[600]));
        Assert.True(queue.TryEnqueue(new byte[400]));
        Assert.Equal(1000, queue.QueuedBytes);
        queue.Discard();
        Assert.Equal(0, queue.QueuedBytes);
    }

    [Fact]
    public void An_organisation_over_its_budget_cuts_the_connection_holding_the_most()
    {
        var budget = new OrganisationSendBudget(limit: 1000);
        var cut = new List<string>();
        var slow = new SendQueue(100);
        var reader = new SendQueue(100);
        slow.Overflowed = () =>
        {
            cut.Add("slow");
            slow.Discard();
        };
        reader.Overflowed = () => cut.Add("reader");
        slow.Join(budget);
        reader.Join(budget);

        Assert.True(slow.TryEnqueue(new byte[700]));
        Assert.True(reader.TryEnqueue(new byte[200]));
        // the reader's next message would pass the budget: the slow one goes, and the reader's message is taken
        Assert.True(reader.TryEnqueue(new byte[300]));
        Assert.Equal(["slow"], cut);
        Assert.Equal(500, budget.QueuedBytes);
        Assert.False(slow.TryEnqueue(new byte[1]));
    }

    [Fact]
    public void One_organisations_backlog_leaves_another_organisations_budget_alone()
    {
        var budgets = new OrganisationSendBudgets(new TransportLimits { SubscriptionOrganisationBufferBytes = 1000 });
        var orgA = budgets.For(Guid.NewGuid());
        var orgB = budgets.For(Guid.NewGuid());
        Assert.NotSame(orgA, orgB);
        var slowA = new SendQueue(100) { Overflowed = () => Assert.Fail("nothing of organisation A is over its own budget") };
        var readerB = new SendQueue(100);
        slowA.Join(orgA);
        readerB.Join(orgB);
        Assert.True(slowA.TryEnqueue(new byte[900]));
        Assert.True(readerB.TryEnqueue(new byte[900]));
        Assert.Equal(900, orgA.QueuedBytes);
        Assert.Equal(900, orgB.QueuedBytes);
    }

    [Fact]
    public void The_connection_holding_the_most_is_refused_itself()
    {
        var budget = new OrganisationSendBudget(limit: 1000);
        var slow = new SendQueue(100);
        var reader = new SendQueue(100) { Overflowed = () => Assert.Fail("the reader must not be cut") };
        slow.Join(budget);
        reader.Join(budget);
        Assert.True(reader.TryEnqueue(new byte[100]));
        Assert.True(slow.TryEnqueue(new byte[800]));
        Assert.False(slow.TryEnqueue(new byte[200]));
        Assert.Equal(900, budget.QueuedBytes);
        slow.Discard();
        Assert.Equal(100, budget.QueuedBytes);
    }
}
