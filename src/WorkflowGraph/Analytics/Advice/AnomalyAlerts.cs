using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Analytics.Stats;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Analytics.Advice;

/// <summary>
/// <c>anomalyDetected</c>: after each pass of the rollup job (<see cref="Rollups.StatsRollupJob"/>), one evaluation per
/// organisation that has subscribers on this instance — the <c>anomalies</c> statement (<see cref="AnomaliesQuery"/>) for the
/// last hour against the 24 before it, run under the organisation's tenant settings — and each subscriber of that
/// organisation gets what was not delivered yet, shaped for its own selection. An anomaly (workflow, channel, node — none
/// for a run-level series —, metric, interval) is delivered once; a message holds at most
/// <see cref="QueryLimits.MaxAnomaliesPerMessage"/>, the rest follow after the next pass.
/// </summary>
public sealed class AnomalyAlerts(DatabaseConnections connections, QueryLimits limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, Organisation> _organisations = new();

    private sealed class Organisation
    {
        public readonly Lock Gate = new();
        public readonly List<(IObserver<object?> Observer, IReadOnlyList<FieldSelection> Fields)> Subscribers = [];
        // delivered anomalies by key, with their interval's end, forgotten two days later
        public readonly Dictionary<string, DateTime> Delivered = new(StringComparer.Ordinal);
    }

    public IObservable<object?> Stream(Guid orgId, IReadOnlyList<FieldSelection> fields) => new AlertStream(this, orgId, fields);

    /// <summary>Evaluates every organisation with subscribers here; returns the anomalies delivered (each once).</summary>
    public async Task<int> EvaluateAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var (orgId, organisation) in _organisations)
        {
            lock (organisation.Gate)
                if (organisation.Subscribers.Count == 0)
                    continue;
            var found = await DetectAsync(orgId, cancellationToken);
            delivered += Deliver(organisation, found);
        }
        return delivered;
    }

    private async Task<List<JsonElement>> DetectAsync(Guid orgId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var end = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerHour + TimeSpan.TicksPerHour, DateTimeKind.Utc);
        var start = end.AddHours(-1);
        await using var connection = new NpgsqlConnection(connections.Owner);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // the service's role and the organisation's setting, as a request of that organisation: RLS confines the statement
        await using (var tenant = new NpgsqlBatch(connection, transaction))
        {
            foreach (var command in TenantTransaction.Commands(orgId, null))
                tenant.BatchCommands.Add(command);
            await tenant.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var detect = new NpgsqlCommand(AnomaliesQuery.Statement, connection, transaction)
        {
            Parameters =
            {
                new() { Value = start.AddHours(-24), NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        };
        var json = (string?)await detect.ExecuteScalarAsync(cancellationToken) ?? "[]";
        await transaction.RollbackAsync(cancellationToken);
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(a => a.Clone())];
    }

    private int Deliver(Organisation organisation, List<JsonElement> found)
    {
        lock (organisation.Gate)
        {
            var horizon = time.GetUtcNow().UtcDateTime.AddDays(-2);
            foreach (var old in organisation.Delivered.Where(d => d.Value < horizon).Select(d => d.Key).ToList())
                organisation.Delivered.Remove(old);
            var cap = Math.Max(1, limits.MaxAnomaliesPerMessage);
            var fresh = found.Where(a => !organisation.Delivered.ContainsKey(Key(a))).Take(cap).ToList();
            if (fresh.Count == 0)
                return 0;
            foreach (var anomaly in fresh)
                organisation.Delivered[Key(anomaly)] = StatsPlanner.Utc(anomaly.GetProperty("intervalEnd").GetDateTimeOffset());
            var array = JsonSerializer.SerializeToElement(fresh);
            foreach (var (observer, fields) in organisation.Subscribers)
                observer.OnNext(new RawJson(StatsProjection.Write(array, fields, AnomaliesQuery.TypeName, _ => AnomaliesQuery.TypeName)));
            return fresh.Count;
        }
    }

    private static readonly string[] KeyFields = ["workflowId", "channel", "nodeId", "metric", "intervalStart"];

    private static string Key(JsonElement anomaly) => string.Join('|', KeyFields.Select(name => anomaly.GetProperty(name).ToString()));

    private void Join(Guid orgId, IObserver<object?> observer, IReadOnlyList<FieldSelection> fields)
    {
        var organisation = _organisations.GetOrAdd(orgId, _ => new Organisation());
        lock (organisation.Gate)
            organisation.Subscribers.Add((observer, fields));
    }

    private void Leave(Guid orgId, IObserver<object?> observer)
    {
        if (!_organisations.TryGetValue(orgId, out var organisation))
            return;
        lock (organisation.Gate)
            organisation.Subscribers.RemoveAll(s => ReferenceEquals(s.Observer, observer));
    }

    private sealed class AlertStream(AnomalyAlerts alerts, Guid orgId, IReadOnlyList<FieldSelection> fields) : IObservable<object?>
    {
        public IDisposable Subscribe(IObserver<object?> observer)
        {
            alerts.Join(orgId, observer, fields);
            return new Subscription(() => alerts.Leave(orgId, observer));
        }
    }

    private sealed class Subscription(Action leave) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
                leave();
        }
    }
}
