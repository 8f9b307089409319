using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// Reads what lies after a position in one organisation's event log, as that tenant (row level security applies),
/// in one statement: the events, their runs' workflow and status for matching, and the JSON of each shape. This is
/// the one home of "events since a snapshot position" (gap-free resume):
/// <list type="bullet">
/// <item>Ids are assigned at insert, not at commit, so "ids above the last one seen" would miss an event whose
/// transaction committed after a larger id was read. Each event records its transaction (<c>tx_id</c>) instead, and
/// a complete position is a snapshot: what it shows was delivered. A read returns the events of transactions the
/// position did not show but its own statement's snapshot does, and that snapshot is the next position; so
/// consecutive reads deliver every committed event exactly once, whatever the commit order.</item>
/// <item>A position inside a batch (<see cref="EventPosition.Upto"/>, <see cref="EventPosition.AfterId"/>) is read in
/// two steps: the rest of that batch (what <c>Upto</c> shows and <c>Since</c> did not, after the id, in id order),
/// then on from <c>Upto</c> as a complete position.</item>
/// </list>
/// </summary>
public sealed class EventLogReader(NpgsqlDataSource dataSource, GraphModel model, IEnumerable<IStatementObserver> observers,
    SubscriptionOptions options)
{
    /// <summary>A selection with more fields than this is built in a lane of its own, even when it reads only its row.</summary>
    public const int LightFieldLimit = 32;

    /// <summary>What the statement writes instead of an event's JSON that is over the bound: this, then its size in
    /// bytes (no JSON text starts with it; <see cref="Bounded"/> writes it as a literal).</summary>
    private const char OversizeMark = '#';

    private static readonly string[] FixedColumns =
        ["position", "id", "trace_id", "workflow_id", "event_type", "status", "created_at", "channel"];

    private EntityMap Events => model.Catalog.Get("WorkflowEvent");
    private EntityMap Traces => model.Catalog.Get("WorkflowTrace");

    /// <summary>
    /// The shape of a selection of <c>WorkflowEvent</c> or <c>WorkflowTrace</c>; fails early for a field the projection
    /// cannot build. With <paramref name="phiRead"/> (the subscriber's token has <c>phi:read</c>) PHI is shown unmasked;
    /// the feed reads for every subscriber in one transaction, so the shape carries the access, not the transaction.
    /// </summary>
    public FeedShape Shape(ShapeKind kind, IReadOnlyList<FieldSelection> fields, bool phiRead)
    {
        var scope = new StatementScope();
        var projection = Project(kind, fields, phiRead, scope);
        var parameters = scope.Parameters.Select(p => $"{p.NpgsqlDbType}={FormatValue(p.Value)}");
        var key = kind + ":" + projection + ":" + string.Join(",", parameters);
        var plan = model.Shapes.Plan(kind == ShapeKind.Event ? Events : Traces, fields);
        var audited = phiRead ? AuditSql.ClassifiedFields(plan) : new HashSet<string>();
        return new FeedShape(kind, fields, key, phiRead, audited) { Heavy = IsHeavy(plan) };
    }

    /// <summary>
    /// Whether a selection may cost more to build than reading its row: it follows a relation (the run, its context,
    /// its steps), shows a JSON column (event data, a configuration), or has more than <see cref="LightFieldLimit"/>
    /// fields (aliases). Light selections are built in the feed's read; each heavy one in a lane of its own.
    /// </summary>
    private static bool IsHeavy(ObjectShape plan) =>
        plan.Fields.Count > LightFieldLimit
        || plan.Fields.Any(f => f is RelationField || (f is ColumnField { Column.Kind: ScalarKind.Json }));

    /// <summary>
    /// The size in bytes of an event's JSON that was over <see cref="SubscriptionOptions.MaxSubscriptionEventBytes"/>
    /// (the statement sent its size instead of it); null for JSON within the bound.
    /// </summary>
    public static long? OversizedBytes(RawJson json) =>
        json.Text.Length > 0 && json.Text[0] == OversizeMark
            ? long.Parse(json.Text.AsSpan(1), CultureInfo.InvariantCulture)
            : null;

    /// <summary>A position that covers everything committed now (where a live-only reader starts).</summary>
    public async Task<EventPosition> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_current_snapshot()::text", connection);
        return EventPosition.After(PgSnapshot.Parse((string)(await command.ExecuteScalarAsync(cancellationToken))!));
    }

    /// <param name="limit">Rows one read returns at most; a full batch says <see cref="EventLogBatch.More"/>.</param>
    /// <param name="bound">Reads only what this snapshot shows (a replay catching up to the live feed's position), and
    /// ends there; without it, the read ends at its own statement's snapshot.</param>
    /// <param name="timeout">The statement's time budget (<c>statement_timeout</c>); null: none.</param>
    /// <param name="recent">The position is recent (the live feed's previous read was not full): the read is planned
    /// once per connection for any such position (a generic plan over the index of transactions, an index range that
    /// stays small), not again for each read's values. Otherwise (a replay, a backlog) it is planned for its values.</param>
    public Task<EventLogBatch> ReadAsync(Guid orgId, EventPosition from, EventFilter filter, IReadOnlyList<FeedShape> shapes,
        int limit, CancellationToken cancellationToken, PgSnapshot? bound = null, TimeSpan? timeout = null, bool recent = false) =>
        ReadCoreAsync(orgId, from, filter, shapes, limit, bound, null, timeout, recent && from.IsComplete, cancellationToken);

    /// <summary>
    /// Builds <paramref name="shapes"/> for the rows of a batch already read (a lane of the feed): the same rows, read
    /// from the same position up to the snapshot that read saw (<see cref="EventLogBatch.At"/>), so that each row's
    /// cursor is the one the read handed out; the runs are shown as this statement sees them.
    /// </summary>
    public Task<EventLogBatch> BuildAsync(Guid orgId, EventPosition from, EventLogBatch batch, IReadOnlyList<FeedShape> shapes,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var ids = batch.Rows.Select(r => r.Id).ToArray();
        // the rows by id: one plan for any batch (the limit rounded up to a power of two keeps the statement texts few)
        var limit = (int)Math.Min(int.MaxValue, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, ids.Length)));
        return ReadCoreAsync(orgId, from, EventFilter.All, shapes, limit, batch.At, ids, timeout, generic: true, cancellationToken);
    }

    private async Task<EventLogBatch> ReadCoreAsync(Guid orgId, EventPosition from, EventFilter filter, IReadOnlyList<FeedShape> shapes,
        int limit, PgSnapshot? bound, long[]? ids, TimeSpan? timeout, bool generic, CancellationToken cancellationToken)
    {
        var scope = new StatementScope();
        var statement = Build(from, filter, shapes, limit, bound, ids, generic, scope).ToString();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // one round trip: the transaction, the tenant, the read and the end of the transaction (READ COMMITTED:
        // the read's snapshot is its own statement's, which is what the next position is)
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"));
        // a replay's or a backlog's plan depends on the position's values: planned for them, also once the statement is
        // prepared. A recent position's read and a lane's rows by id have one good plan for all values, written so
        // that a generic plan finds it (bounded ranges, see Build); planning them again each time cost the feed half
        // of PostgreSQL's CPU at 500 events/s (bench/README)
        var settings = new List<(string, string)>
            { ("TimeZone", "UTC"), ("plan_cache_mode", generic ? "force_generic_plan" : "force_custom_plan") };
        if (timeout is { } budget)
            settings.Add(("statement_timeout", Math.Max(1, (int)budget.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
        foreach (var command in TenantTransaction.Commands(orgId, null, [.. settings]))
            batch.BatchCommands.Add(command);
        var read = new NpgsqlBatchCommand(statement);
        read.Parameters.AddRange(scope.Parameters.ToArray());
        batch.BatchCommands.Add(read);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        foreach (var observer in observers)
            observer.OnStatement(statement, scope.Parameters);

        var rows = new List<EventLogRow>();
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
                var runs = new long[]?[shapes.Count];
                var runColumn = FixedColumns.Length + shapes.Count;
                for (var i = 0; i < shapes.Count; i++)
                {
                    var column = FixedColumns.Length + i;
                    json[i] = reader.IsDBNull(column) ? null : new RawJson(reader.GetString(column));
                    if (shapes[i].AuditedFields.Count > 0)
                        runs[i] = reader.GetFieldValue<long[]>(runColumn++);
                }
                rows.Add(new EventLogRow(reader.GetInt64(1), reader.GetInt64(2), reader.GetGuid(3), reader.GetString(4),
                    reader.GetString(5), reader.GetFieldValue<DateTime>(6), json, reader.GetString(7))
                { Runs = runs });
            }
        }

        // a full batch may have left rows unread: go on from inside it, at its last row (the same position that row's
        // cursor encodes: this read's since, the snapshot it read up to, the row's id). A position inside a batch is
        // read in two steps (the rest of that batch, then what came after it), so finishing the first step goes on too.
        if (rows.Count == limit)
        {
            var readUpto = from.IsComplete ? bound ?? current! : from.Upto;
            return new EventLogBatch(rows, new EventPosition(from.Since, readUpto, rows[^1].Id), More: true) { At = bound ?? current };
        }
        return from.IsComplete
            ? new EventLogBatch(rows, EventPosition.After(bound ?? current!), More: false) { At = bound ?? current }
            : new EventLogBatch(rows, EventPosition.After(from.Upto), More: true) { At = bound ?? current };
    }

    private Sql Build(EventPosition from, EventFilter filter, IReadOnlyList<FeedShape> shapes, int limit, PgSnapshot? bound,
        long[]? ids, bool generic, StatementScope scope)
    {
        Sql Snapshot(PgSnapshot snapshot) => Sql.Of($"{scope.Parameter(snapshot.ToString(), NpgsqlDbType.Text)}::pg_snapshot");
        var since = Snapshot(from.Since);
        // where this read ends: the bound, or what the statement itself sees
        var end = bound is null ? Sql.Raw("s.position") : Snapshot(bound);
        // a snapshot's parts as constants (not pg_visible_in_snapshot on a pg_snapshot value), so that the planner sees
        // small index conditions on (org_id, tx_id): ix_workflow_events__org_tx
        Sql Xmax(PgSnapshot snapshot) =>
            Sql.Of($"{scope.Parameter(snapshot.Xmax.ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text)}::xid8");
        Sql Running(PgSnapshot snapshot) =>
            Sql.Of($"{scope.Parameter("{" + string.Join(',', snapshot.InProgress) + "}", NpgsqlDbType.Text)}::xid8[]");
        // "not visible in the snapshot": what began at or after its xmax, or was still running when it was taken;
        // never what it saw
        Sql Unseen(PgSnapshot snapshot) => generic
            ? UnseenBounded(snapshot)
            : snapshot.InProgress.Count > 0
                ? Sql.Of($"(e.tx_id >= {Xmax(snapshot)} OR e.tx_id = ANY ({Running(snapshot)}))")
                : Sql.Of($"e.tx_id >= {Xmax(snapshot)}");
        // the same rows, each part a range closed on both sides: a generic plan estimates a closed range as small and
        // reads each through the (org_id, tx_id) index (an open one it estimates as a third of the table, and scans it
        // in id order). Nothing at or past the end's xmax is visible to the read, and every transaction still running
        // in a snapshot lies between its xmin and its xmax; the running ones are looked up one by one (= ANY), so a
        // long transaction in the snapshot does not widen the range read
        Sql UnseenBounded(PgSnapshot snapshot)
        {
            var endXmax = bound is null ? Sql.Raw("pg_snapshot_xmax(s.position)") : Xmax(bound);
            var xmax = Xmax(snapshot);
            var after = Sql.Of($"e.tx_id >= {xmax} AND e.tx_id < {endXmax}");
            if (snapshot.InProgress.Count == 0)
                return Sql.Of($"({after})");
            var low = scope.Parameter(snapshot.InProgress.Min().ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text);
            return Sql.Of($"(({after}) OR (e.tx_id = ANY ({Running(snapshot)}) AND e.tx_id >= {low}::xid8 AND e.tx_id < {xmax}))");
        }
        // and "visible in the snapshot"
        void AddSeen(List<Sql> into, PgSnapshot snapshot)
        {
            into.Add(Sql.Of($"e.tx_id < {Xmax(snapshot)}"));
            if (snapshot.InProgress.Count > 0)
                into.Add(Sql.Of($"e.tx_id <> ALL ({Running(snapshot)})"));
        }
        var id = Sql.Raw("e.id");
        var conditions = new List<Sql> { Unseen(from.Since) };
        if (bound is not null)
            AddSeen(conditions, bound);
        Sql cursor;
        if (from.IsComplete)
        {
            cursor = EventPosition.CursorSql(since, end, id);
        }
        else
        {
            // the rest of the batch the cursor stopped in: what upto shows after its id, in id order (an index range);
            // what came after upto is the next read's, from the complete position upto
            var upto = Snapshot(from.Upto);
            AddSeen(conditions, from.Upto);
            conditions.Add(Sql.Of($"e.id > {scope.Parameter(from.AfterId, NpgsqlDbType.Bigint)}"));
            cursor = EventPosition.CursorSql(since, upto, id);
        }
        if (ids is not null)
            conditions.Add(Sql.Of($"e.id = ANY ({scope.Parameter(ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint)})"));
        if (filter.TraceId is { } traceId)
            conditions.Add(Sql.Of($"e.trace_id = {scope.Parameter(traceId, NpgsqlDbType.Bigint)}"));
        if (filter.WorkflowId is { } workflowId)
        {
            var workflow = scope.Parameter(workflowId, NpgsqlDbType.Uuid);
            conditions.Add(Sql.Of($"e.trace_id IN (SELECT w.id FROM workflow_trace w WHERE w.workflow_id = {workflow})"));
        }
        if (filter.EventTypes is { } types)
            conditions.Add(Sql.Of($"e.event_type = ANY ({scope.Parameter(types.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)})"));

        var columns = new List<Sql>
        {
            Sql.Raw("s.position::text, e.id, e.trace_id, t.workflow_id, e.event_type, t.status::text, e.created_at, t.channel::text"),
        };
        // each row's cursor (WorkflowEvent.cursor) is the position this read leaves it at
        var replaced = new Dictionary<string, Sql> { ["cursor"] = cursor };
        foreach (var shape in shapes)
        {
            var json = Bounded(Project(shape.Kind, shape.Fields, shape.PhiRead, scope, replaced), scope);
            // a run changed by several events of the batch is sent once, with the state the statement saw
            columns.Add(shape.Kind == ShapeKind.Event
                ? json
                : Sql.Of($"CASE WHEN e.id = max(e.id) OVER (PARTITION BY e.trace_id) THEN {json} END"));
        }
        // then, for each audited shape, the runs its JSON shows (the PHI access audit of the events delivered with it)
        foreach (var shape in shapes.Where(s => s.AuditedFields.Count > 0))
            columns.Add(shape.Kind == ShapeKind.Event
                ? AuditSql.RunIds(model.Shapes.Plan(Events, shape.Fields), SqlAlias.Named("e"), scope)
                : AuditSql.RunIds(model.Shapes.Plan(Traces, shape.Fields), SqlAlias.Named("t"), scope));
        return Sql.Of($"SELECT {Sql.Join(", ", columns)} FROM (SELECT pg_current_snapshot() AS position) s " +
                      $"LEFT JOIN LATERAL (SELECT * FROM workflow_events e WHERE {Sql.Join(" AND ", conditions)} " +
                      $"ORDER BY {id} LIMIT {limit}) e ON true " +
                      // each row's run by its key (OFFSET 0 keeps it a per-row lookup: joined, the planner may hash all the org's runs)
                      $"LEFT JOIN LATERAL (SELECT * FROM workflow_trace t WHERE t.id = e.trace_id OFFSET 0) t ON true ORDER BY {id}");
    }

    /// <summary>
    /// An event's JSON as text, or when it is over <see cref="SubscriptionOptions.MaxSubscriptionEventBytes"/> only
    /// its size (<see cref="OversizeMark"/> and the bytes): what is over the bound never leaves the database. The JSON is
    /// built once (<c>OFFSET 0</c> keeps the planner from copying it into each use).
    /// </summary>
    private Sql Bounded(Sql json, StatementScope scope)
    {
        if (options.MaxSubscriptionEventBytes <= 0)
            return json;
        var max = scope.Parameter(options.MaxSubscriptionEventBytes, NpgsqlDbType.Bigint);
        return Sql.Of($"(SELECT CASE WHEN octet_length(b.j) <= {max} THEN b.j ELSE '#' || octet_length(b.j) END " +
                      $"FROM (SELECT ({json})::text AS j OFFSET 0) b)");
    }

    private Sql Project(ShapeKind kind, IReadOnlyList<FieldSelection> fields, bool phiRead, StatementScope scope,
        IReadOnlyDictionary<string, Sql>? replaced = null)
    {
        // the feed's transaction carries no token: the access is the subscriber's, and without it PHI is masked
        var access = Sql.Raw(phiRead ? "TRUE" : "FALSE");
        return kind == ShapeKind.Event
            ? ObjectSql.Build(model.Shapes.Plan(Events, fields), SqlAlias.Named("e"), scope, replaced, access)
            : ObjectSql.Build(model.Shapes.Plan(Traces, fields), SqlAlias.Named("t"), scope, phiAccess: access);
    }

    private static string FormatValue(object? value) => value switch
    {
        null or DBNull => "null",
        Array array => "[" + string.Join(",", array.Cast<object?>().Select(FormatValue)) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
