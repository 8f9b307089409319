using System.Globalization;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// A place in the event log that commit order cannot tear: everything visible in <see cref="Since"/> was delivered,
/// and of what <see cref="Upto"/> also shows, the events up to <see cref="AfterId"/>. A complete position has
/// <c>Upto == Since</c>. Ids alone would skip an event whose transaction committed after a larger id had been read;
/// how a position is read on is the reader's (<see cref="EventLogReader"/>).
/// </summary>
public sealed record EventPosition(PgSnapshot Since, PgSnapshot Upto, long AfterId)
{
    private const string Version = "1";

    /// <summary>Before every event: nothing counts as delivered.</summary>
    public static readonly PgSnapshot Nothing = PgSnapshot.Parse("1:1:");

    /// <summary>
    /// A queried event's cursor, for the events aliased <paramref name="events"/>: of what the query's snapshot shows
    /// (with its own transaction's writes, for a mutation's payload: <c>workflow_events_position()</c>), the events up
    /// to this one in id order count as delivered (nothing else), so resuming from the last of a run's events read by
    /// id replays exactly the rest.
    /// </summary>
    public static Sql QueriedCursor(SqlAlias events) =>
        CursorSql(Sql.Raw($"'{Nothing}'"), Sql.Raw("workflow_events_position()"), events.Column("id"));

    public static EventPosition After(PgSnapshot snapshot) => new(snapshot, snapshot, long.MaxValue);

    public bool IsComplete => Since == Upto;

    /// <summary>
    /// A cursor's snapshots list the transactions running when they were taken; more than a server runs at once is
    /// no real cursor, and every delivered event repeats the list, so the size is bounded.
    /// </summary>
    private const int MaxRunningTransactions = 1024;
    private const int MaxCursorLength = 64 * 1024;

    /// <summary>Reads a client's cursor (<c>WorkflowEvent.cursor</c>, written by <see cref="CursorSql"/>); false when it is none.</summary>
    public static bool TryDecode(string cursor, out EventPosition position)
    {
        position = null!;
        if (cursor.Length > MaxCursorLength || !Base64Url.TryDecode(cursor, out var text))
            return false;
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

    /// <summary>
    /// SQL for the cursor of a row, the only writer of cursors: <c>'1|' || since || '|' || upto || '|' || id</c> in
    /// unpadded base64url (<see cref="Base64Url"/>'s form).
    /// </summary>
    public static Sql CursorSql(Sql since, Sql upto, Sql id) =>
        Base64Url.EncodeSql(Sql.Of($"'{Sql.Raw(Version)}|' || ({since})::text || '|' || ({upto})::text || '|' || ({id})::text"));
}
