using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// A place in the event log that commit order cannot tear (db/migrations/015_event_feed.sql): everything visible
/// in <see cref="Since"/> was delivered, and of what <see cref="Upto"/> also shows, the events up to
/// <see cref="AfterId"/>. A complete position has <c>Upto == Since</c>. Ids alone would skip an event whose
/// transaction committed after a larger id had been read.
/// </summary>
public sealed record EventPosition(PgSnapshot Since, PgSnapshot Upto, long AfterId)
{
    private const string Version = "1";

    /// <summary>Before every event: nothing counts as delivered.</summary>
    public static readonly PgSnapshot Nothing = PgSnapshot.Parse("1:1:");

    public static EventPosition After(PgSnapshot snapshot) => new(snapshot, snapshot, long.MaxValue);

    public bool IsComplete => Since == Upto;

    /// <summary>The opaque text clients hold (<c>WorkflowEvent.cursor</c>); the SQL side writes the same shape.</summary>
    public string Encode() => Base64Url(string.Join('|', Version, Since, Upto, AfterId.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// A cursor's snapshots list the transactions running when they were taken; more than a server runs at once is
    /// no real cursor, and every delivered event repeats the list, so the size is bounded.
    /// </summary>
    private const int MaxRunningTransactions = 1024;
    private const int MaxCursorLength = 64 * 1024;

    public static bool TryDecode(string cursor, out EventPosition position)
    {
        position = null!;
        if (cursor.Length > MaxCursorLength)
            return false;
        string text;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = text.Split('|');
        if (parts.Length != 4 || parts[0] != Version
            || !PgSnapshot.TryParse(parts[1], out var since) || !PgSnapshot.TryParse(parts[2], out var upto)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var afterId)
            || since.InProgress.Count > MaxRunningTransactions || upto.InProgress.Count > MaxRunningTransactions
            || !upto.Includes(since))
            return false;
        position = new EventPosition(since, upto, afterId);
        return true;
    }

    /// <summary>SQL for the cursor of a row: <c>'1|' || since || '|' || upto || '|' || id</c> in unpadded base64url.</summary>
    public static string CursorSql(string since, string upto, string id) =>
        $"translate(encode(convert_to('{Version}|' || ({since})::text || '|' || ({upto})::text || '|' || ({id})::text, 'UTF8'), 'base64'), E'+/=\\n', '-_')";

    private static string Base64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A PostgreSQL <c>pg_snapshot</c> (<c>xmin:xmax:xip,...</c>) and its visibility rule, checked in process.</summary>
public sealed partial record PgSnapshot(ulong Xmin, ulong Xmax, IReadOnlyList<ulong> InProgress)
{
    /// <summary>pg_visible_in_snapshot: committed before the snapshot was taken.</summary>
    public bool Sees(ulong txId) => txId < Xmin || (txId < Xmax && !InProgress.Contains(txId));

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
