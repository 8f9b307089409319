using System.Globalization;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// Generated runs for the anomaly tests: one every <c>every</c> minutes between two times, failing with a probability,
/// lasting a noisy number of milliseconds (uniform ±40%), each with one step per node of its workflow that fails and
/// lasts as that node was told. Run it after <c>setseed</c> and the same rows come out every time.
/// </summary>
internal static class PlantedRuns
{
    /// <summary>A node of the workflow and how its steps behave.</summary>
    public sealed record Node(int Id, double Fail, int Ms);

    public static string Sql(Guid org, Guid workflow, string channel, string from, string to, int every, double fail, int ms,
        params Node[] nodes)
    {
        var steps = nodes.Length == 0 ? "" : $"""
            , steps AS (
              INSERT INTO workflow_steps (org_id, trace_id, node_id, step_number, status, start_time, end_time)
              SELECT r.org_id, r.id, n.id, n.position,
                     CASE WHEN random() < n.fail THEN 'failed' ELSE 'completed' END,
                     r.start_time, r.start_time + (n.ms * (0.6 + 0.8 * random())) * interval '1 millisecond'
                FROM runs r CROSS JOIN (VALUES {string.Join(", ", nodes.Select((n, i) =>
                    $"({n.Id}, {i + 1}, {Number(n.Fail)}::float8, {n.Ms})"))}) n (id, position, fail, ms)
              RETURNING 1)
            """;
        return $"""
            WITH runs AS (
              INSERT INTO workflow_trace (org_id, workflow_id, channel, status, start_time, end_time)
              SELECT '{org}', '{workflow}', '{channel}', CASE WHEN random() < {Number(fail)} THEN 'failed' ELSE 'completed' END,
                     t, t + ({ms} * (0.6 + 0.8 * random())) * interval '1 millisecond'
                FROM generate_series('{from}'::timestamptz, '{to}'::timestamptz - interval '1 second', interval '{every} minutes') t
              RETURNING id, org_id, start_time){steps}
            SELECT count(*) FROM runs;

            """;
    }

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
