using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Subscriptions;

/// <summary>Which events a subscription wants; every given part must match.</summary>
public sealed record EventFilter(long? TraceId, Guid? WorkflowId, IReadOnlyList<string>? EventTypes)
{
    public static readonly EventFilter All = new(null, null, null);

    public bool Matches(FeedRow row) =>
        (TraceId is null || row.TraceId == TraceId) && (WorkflowId is null || row.WorkflowId == WorkflowId)
        && (EventTypes is null || EventTypes.Contains(row.EventType));
}

/// <summary>What subscribers of one selection receive: a <c>WorkflowEvent</c> per event, or the run it changed.</summary>
public enum ShapeKind { Event, Trace }

/// <summary>
/// One selection set that some subscribers share. The feed statement builds its JSON once per event (or per changed
/// run) for all of them; <see cref="Key"/> is the projection SQL it compiles to, so equal selections share a shape.
/// </summary>
public sealed class FeedShape(ShapeKind kind, IReadOnlyList<FieldSelection> fields, string key)
{
    public ShapeKind Kind { get; } = kind;
    public IReadOnlyList<FieldSelection> Fields { get; } = fields;
    public string Key { get; } = key;
}

/// <summary>One event as the feed read it, with the JSON of each shape the statement asked for.</summary>
public sealed record FeedRow(long Id, long TraceId, Guid WorkflowId, string EventType, string TraceStatus, RawJson?[] Shapes);

/// <summary>Rows in delivery order, the position after them, and whether reading on from it may find more right away.</summary>
public sealed record FeedBatch(IReadOnlyList<FeedRow> Rows, EventPosition Next, bool More);

/// <summary>
/// Reads what lies after a position in one organisation's event log, as that tenant (row level security applies),
/// in one statement: the events, their runs' workflow and status for matching, and the JSON of each shape.
/// Consecutive reads from the returned positions deliver every committed event exactly once, whatever the commit
/// order (a complete position reads by transaction visibility; a cursor inside a batch first finishes that batch).
/// </summary>
public sealed class EventFeed(NpgsqlDataSource dataSource, GraphModel model, IEnumerable<IStatementObserver> observers)
{
    private static readonly string[] FixedColumns = ["position", "id", "trace_id", "workflow_id", "event_type", "status"];

    private EntityMap Events => model.Catalog.Get("WorkflowEvent");
    private EntityMap Traces => model.Catalog.Get("WorkflowTrace");

    /// <summary>The shape of a selection of <c>WorkflowEvent</c> or <c>WorkflowTrace</c>; fails early for a field the projection cannot build.</summary>
    public FeedShape Shape(ShapeKind kind, IReadOnlyList<FieldSelection> fields)
    {
        var sql = new StatementScope();
        var projection = Project(kind, fields, sql);
        var key = kind + ":" + projection + ":" + string.Join(",", sql.Parameters.Select(p => $"{p.NpgsqlDbType}={FormatValue(p.Value)}"));
        return new FeedShape(kind, fields, key);
    }

    /// <summary>A position that covers everything committed now (where a live-only reader starts).</summary>
    public async Task<EventPosition> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_current_snapshot()::text", connection);
        return EventPosition.After(PgSnapshot.Parse((string)(await command.ExecuteScalarAsync(cancellationToken))!));
    }

    /// <param name="bound">Reads only what this snapshot shows (a replay catching up to the live feed's position), and
    /// ends there; without it, the read ends at its own statement's snapshot.</param>
    public async Task<FeedBatch> ReadAsync(Guid orgId, EventPosition from, EventFilter filter, IReadOnlyList<FeedShape> shapes, int limit,
        CancellationToken cancellationToken, PgSnapshot? bound = null)
    {
        var sql = new StatementScope();
        var statement = Build(from, filter, shapes, limit, bound, sql);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // one round trip: the transaction, the tenant, the read and the end of the transaction (READ COMMITTED:
        // the read's snapshot is its own statement's, which is what the next position is)
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"));
        // the read's plan depends on the position's values (a few recent transactions, or a backlog): always plan it
        // for them, also once the statement is prepared
        foreach (var command in TenantTransaction.Commands(orgId, null, ("TimeZone", "UTC"), ("plan_cache_mode", "force_custom_plan")))
            batch.BatchCommands.Add(command);
        var read = new NpgsqlBatchCommand(statement);
        read.Parameters.AddRange(sql.Parameters.ToArray());
        batch.BatchCommands.Add(read);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        foreach (var observer in observers)
            observer.OnStatement(statement, sql.Parameters);

        var rows = new List<FeedRow>();
        PgSnapshot? current = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken); // the tenant setup's row (BEGIN and SET return none)
            while (await reader.ReadAsync(cancellationToken))
            {
                current ??= PgSnapshot.Parse(reader.GetString(0));
                if (reader.IsDBNull(1))
                    continue; // no events: the row only carries the statement's snapshot
                var json = new RawJson?[shapes.Count];
                for (var i = 0; i < shapes.Count; i++)
                    json[i] = reader.IsDBNull(FixedColumns.Length + i) ? null : new RawJson(reader.GetString(FixedColumns.Length + i));
                rows.Add(new FeedRow(reader.GetInt64(1), reader.GetInt64(2), reader.GetGuid(3), reader.GetString(4), reader.GetString(5), json));
            }
        }

        // a full batch may have left rows unread: go on from the last row's cursor. A position inside a batch is read
        // in two steps (the rest of that batch, then what came after it), so finishing the first step goes on too.
        // (the last row's cursor, as the statement wrote it into the JSON)
        if (rows.Count == limit)
            return new FeedBatch(rows, new EventPosition(from.Since, from.IsComplete ? bound ?? current! : from.Upto, rows[^1].Id), More: true);
        return from.IsComplete
            ? new FeedBatch(rows, EventPosition.After(bound ?? current!), More: false)
            : new FeedBatch(rows, EventPosition.After(from.Upto), More: true);
    }

    private string Build(EventPosition from, EventFilter filter, IReadOnlyList<FeedShape> shapes, int limit, PgSnapshot? bound, StatementScope sql)
    {
        var since = sql.Parameter(from.Since.ToString(), NpgsqlDbType.Text).ToString() + "::pg_snapshot";
        // where this read ends: the bound, or what the statement itself sees
        var end = bound is null ? "s.position" : sql.Parameter(bound.ToString(), NpgsqlDbType.Text).ToString() + "::pg_snapshot";
        // a snapshot's parts as constants, so that the planner sees small index conditions on (org_id, tx_id)
        string Xmax(PgSnapshot snapshot) =>
            sql.Parameter(snapshot.Xmax.ToString(System.Globalization.CultureInfo.InvariantCulture), NpgsqlDbType.Text).ToString() + "::xid8";
        string Running(PgSnapshot snapshot) => sql.Parameter("{" + string.Join(',', snapshot.InProgress) + "}", NpgsqlDbType.Text).ToString() + "::xid8[]";
        // "not visible in the snapshot": a position only re-reads the transactions that were still running when it
        // was taken, never what it saw
        string Unseen(PgSnapshot snapshot) => snapshot.InProgress.Count > 0
            ? $"(e.tx_id >= {Xmax(snapshot)} OR e.tx_id = ANY ({Running(snapshot)}))"
            : $"e.tx_id >= {Xmax(snapshot)}";
        // and "visible in the snapshot"
        void AddSeen(List<string> into, PgSnapshot snapshot)
        {
            into.Add($"e.tx_id < {Xmax(snapshot)}");
            if (snapshot.InProgress.Count > 0)
                into.Add($"e.tx_id <> ALL ({Running(snapshot)})");
        }
        var conditions = new List<string> { Unseen(from.Since) };
        if (bound is not null)
            AddSeen(conditions, bound);
        string cursor;
        if (from.IsComplete)
        {
            cursor = EventPosition.CursorSql(since, end, "e.id");
        }
        else
        {
            // the rest of the batch the cursor stopped in: what upto shows after its id, in id order (an index range);
            // what came after upto is the next read's, from the complete position upto
            var upto = sql.Parameter(from.Upto.ToString(), NpgsqlDbType.Text).ToString() + "::pg_snapshot";
            AddSeen(conditions, from.Upto);
            conditions.Add($"e.id > {sql.Parameter(from.AfterId, NpgsqlDbType.Bigint)}");
            cursor = EventPosition.CursorSql(since, upto, "e.id");
        }
        const string order = "e.id";
        if (filter.TraceId is { } traceId)
            conditions.Add($"e.trace_id = {sql.Parameter(traceId, NpgsqlDbType.Bigint)}");
        if (filter.WorkflowId is { } workflowId)
            conditions.Add($"e.trace_id IN (SELECT w.id FROM workflow_trace w WHERE w.workflow_id = {sql.Parameter(workflowId, NpgsqlDbType.Uuid)})");
        if (filter.EventTypes is { } types)
            conditions.Add($"e.event_type = ANY ({sql.Parameter(types.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)})");

        var columns = new List<string>
        {
            "s.position::text", "e.id", "e.trace_id", "t.workflow_id", "e.event_type", "t.status::text",
        };
        var replaced = new Dictionary<string, Sql> { ["cursor"] = Sql.Raw(cursor) };
        foreach (var shape in shapes)
        {
            var json = Project(shape.Kind, shape.Fields, sql, replaced);
            // a run changed by several events of the batch is sent once, with the state the statement saw
            columns.Add(shape.Kind == ShapeKind.Event ? json : $"CASE WHEN e.id = max(e.id) OVER (PARTITION BY e.trace_id) THEN {json} END");
        }
        return $"SELECT {string.Join(", ", columns)} FROM (SELECT pg_current_snapshot() AS position) s " +
               $"LEFT JOIN LATERAL (SELECT * FROM workflow_events e WHERE {string.Join(" AND ", conditions)} ORDER BY {order} LIMIT {limit}) e ON true " +
               // each row's run by its key (OFFSET 0 keeps it a per-row lookup: joined, the planner may hash the whole org's runs)
               $"LEFT JOIN LATERAL (SELECT * FROM workflow_trace t WHERE t.id = e.trace_id OFFSET 0) t ON true ORDER BY {order}";
    }

    private string Project(ShapeKind kind, IReadOnlyList<FieldSelection> fields, StatementScope sql, IReadOnlyDictionary<string, Sql>? replaced = null) =>
        (kind == ShapeKind.Event
            ? ObjectSql.Build(model.Shapes.Plan(Events, fields), SqlAlias.Named("e"), sql, replaced)
            : ObjectSql.Build(model.Shapes.Plan(Traces, fields), SqlAlias.Named("t"), sql)).ToString();

    private static string FormatValue(object? value) => value switch
    {
        null or DBNull => "null",
        Array array => "[" + string.Join(",", array.Cast<object?>().Select(FormatValue)) + "]",
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
