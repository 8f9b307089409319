using System.Globalization;

namespace WorkflowGraph.Database;

/// <summary>
/// What one response showed unmasked, gathered while its root fields run (in parallel, hence the lock): the classified
/// fields selected (<c>Type.field</c>) and the runs whose rows came back with them. A response that gathered anything
/// writes one <c>phi_access_audit</c> record before it is answered (<see cref="RequestDatabase.RecordPhiAccessAsync"/>).
/// Bounded as the table is: the first <see cref="MaxRuns"/> distinct runs, at most <see cref="MaxFields"/> fields.
/// </summary>
public sealed class PhiAccessRecord
{
    public const int MaxRuns = 1000;
    public const int MaxFields = 500;

    private readonly Lock _gate = new();
    private readonly SortedSet<string> _fields = new(StringComparer.Ordinal);
    private readonly List<long> _runs = [];
    private readonly HashSet<long> _seen = [];

    /// <summary>Nothing unmasked was shown: no record is written.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
                return _fields.Count == 0;
        }
    }

    /// <summary>A root field returned rows that showed <paramref name="fields"/> unmasked, from <paramref name="runs"/>.</summary>
    public void Add(IEnumerable<string> fields, IEnumerable<long> runs)
    {
        lock (_gate)
        {
            foreach (var field in fields)
                if (_fields.Count < MaxFields)
                    _fields.Add(field);
            foreach (var run in runs)
                if (_runs.Count < MaxRuns && _seen.Add(run))
                    _runs.Add(run);
        }
    }

    /// <summary>Runs as an aggregate writes them in SQL: ids separated by commas (null: none).</summary>
    public static IEnumerable<long> ParseRuns(string? runs) =>
        (runs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => long.Parse(r, CultureInfo.InvariantCulture));

    public (string[] Fields, long[] Runs) Snapshot()
    {
        lock (_gate)
            return ([.. _fields], [.. _runs]);
    }
}
