using System.Globalization;
using System.Text.RegularExpressions;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// A PostgreSQL <c>pg_snapshot</c> (<c>xmin:xmax:xip,...</c>): parsed strictly, since cursors carry it from clients, and
/// compared in process (<see cref="Includes"/>) to tell whether a position lies at or beyond another. Which events a
/// snapshot shows is decided in SQL by the reader (<see cref="EventLogReader"/>), never here.
/// </summary>
public sealed partial record PgSnapshot(ulong Xmin, ulong Xmax, IReadOnlyList<ulong> InProgress)
{
    /// <summary>Whether everything <paramref name="other"/> shows, this snapshot shows too (it was taken no earlier).</summary>
    public bool Includes(PgSnapshot other)
    {
        // transactions this one still counts as running must be ones other did not see either
        foreach (var running in InProgress)
            if (running < other.Xmax && !other.InProgress.Contains(running))
                return false;
        // what other saw at or beyond this one's xmax: only transactions other counted as running
        if (other.Xmax <= Xmax)
            return true;
        var beyond = other.Xmax - Xmax;
        return Xmax >= other.Xmin && beyond <= (ulong)other.InProgress.Count && (ulong)other.InProgress.Count(x => x >= Xmax) == beyond;
    }

    public static PgSnapshot Parse(string text) =>
        TryParse(text, out var snapshot) ? snapshot : throw new FormatException($"not a pg_snapshot: {text}");

    public static bool TryParse(string text, out PgSnapshot snapshot)
    {
        snapshot = null!;
        if (!Shape().IsMatch(text))
            return false;
        var parts = text.Split(':');
        if (!ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var xmin)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var xmax) || xmin < 1 || xmin > xmax)
            return false;
        var inProgress = new List<ulong>();
        foreach (var part in parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            // PostgreSQL writes them in ascending order and accepts nothing else
            if (!ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var xid) || xid < xmin || xid >= xmax
                || (inProgress.Count > 0 && xid <= inProgress[^1]))
                return false;
            inProgress.Add(xid);
        }
        snapshot = new PgSnapshot(xmin, xmax, inProgress);
        return true;
    }

    public override string ToString() =>
        $"{Xmin.ToString(CultureInfo.InvariantCulture)}:{Xmax.ToString(CultureInfo.InvariantCulture)}:{string.Join(',', InProgress)}";

    public bool Equals(PgSnapshot? other) =>
        other is not null && Xmin == other.Xmin && Xmax == other.Xmax && InProgress.SequenceEqual(other.InProgress);

    public override int GetHashCode() => HashCode.Combine(Xmin, Xmax, InProgress.Count);

    [GeneratedRegex(@"^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?$")]
    private static partial Regex Shape();
}
