using System.Globalization;
using System.Text;
using WorkflowGraph.Subscriptions;

namespace WorkflowGraph.Tests.Subscriptions;

/// <summary>
/// The tests' own statement of positions, written apart from the service so that they check it rather than repeat
/// it: which transactions a snapshot shows, and the cursor text the SQL side writes for a position.
/// </summary>
public static class PositionOracle
{
    /// <summary>pg_visible_in_snapshot: committed before the snapshot was taken.</summary>
    public static bool Sees(this PgSnapshot snapshot, ulong txId) =>
        txId < snapshot.Xmin || (txId < snapshot.Xmax && !snapshot.InProgress.Contains(txId));

    /// <summary>The cursor of a position as EventPosition.CursorSql writes it: unpadded base64url of <c>1|since|upto|afterId</c>.</summary>
    public static string Encode(this EventPosition position)
    {
        var text = string.Join('|', "1", position.Since, position.Upto, position.AfterId.ToString(CultureInfo.InvariantCulture));
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
