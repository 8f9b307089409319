using System.Collections;
using System.Diagnostics;

namespace WorkflowGraph.Tests.Telemetry;

/// <summary>What the in-memory exporter exported, safe to read while it exports more.</summary>
public sealed class SpanLog : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];
    private readonly Lock _gate = new();

    public int Count
    {
        get { lock (_gate) return _spans.Count; }
    }

    public bool IsReadOnly => false;

    /// <summary>The spans of one trace, waiting (up to 10 s) until <paramref name="complete"/> holds for them.</summary>
    public async Task<Activity[]> OfTraceAsync(ActivityTraceId traceId, Func<Activity[], bool> complete)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            Activity[] spans;
            lock (_gate) spans = _spans.Where(s => s.TraceId == traceId).ToArray();
            if (complete(spans) || DateTime.UtcNow > deadline)
                return spans;
            await Task.Delay(50);
        }
    }

    public void Add(Activity item)
    {
        lock (_gate) _spans.Add(item);
    }

    public void Clear()
    {
        lock (_gate) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_gate) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_gate) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_gate) return _spans.Remove(item);
    }

    public IEnumerator<Activity> GetEnumerator()
    {
        lock (_gate) return _spans.ToList().GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
