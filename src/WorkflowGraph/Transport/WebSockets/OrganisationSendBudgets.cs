using System.Collections.Concurrent;

namespace WorkflowGraph.Transport.WebSockets;

/// <summary>Each organisation's <see cref="OrganisationSendBudget"/> on this instance (kept while the instance runs: one
/// small object per organisation that ever connected).</summary>
public sealed class OrganisationSendBudgets(TransportLimits limits)
{
    private readonly ConcurrentDictionary<Guid, OrganisationSendBudget> _budgets = new();

    public OrganisationSendBudget For(Guid orgId) =>
        _budgets.GetOrAdd(orgId, _ => new OrganisationSendBudget(limits.SubscriptionOrganisationBufferBytes));
}
