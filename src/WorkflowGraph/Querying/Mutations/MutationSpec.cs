using WorkflowGraph.Database;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Querying.Mutations;

/// <summary>
/// How one mutation writes: <see cref="Write"/> is the statement that changes data (a SQL helper function call
/// for executions); <see cref="Lookup"/> finds the changed row for the payload's object in the next statement of
/// the same round trip, which sees the write. A statement may leave the changed key in the transaction-local
/// setting <c>wg.mutation_key</c> (<see cref="KeyFromWrite"/>).
/// </summary>
public sealed record MutationSpec(
    string Field,
    TenantRole Role,
    Func<IDictionary<string, object?>, StatementScope, Sql> Write,
    string? PayloadField = null,
    EntityMap? Entity = null,
    Func<IDictionary<string, object?>, SqlAlias, StatementScope, Sql>? Lookup = null)
{
    /// <summary>
    /// Input fields that take a global id, with the type whose id each takes: the runner hands <see cref="Write"/> and
    /// <see cref="Lookup"/> the database keys instead (an id of another type is an INVALID_ID error, nothing run).
    /// </summary>
    public IReadOnlyDictionary<string, EntityMap> Ids { get; init; } = new Dictionary<string, EntityMap>();

    /// <summary>
    /// More objects the payload returns beside its own (<c>setWorkflowContext</c>: the run as well as the entry), each
    /// read by its own statement in the same round trip, after the write; null when its lookup finds nothing.
    /// </summary>
    public IReadOnlyList<PayloadObject> Also { get; init; } = [];

    /// <summary>This mutation with <paramref name="more"/> objects in its payload (see <see cref="Also"/>).</summary>
    public MutationSpec Returning(params PayloadObject[] more) => this with { Also = [.. Also, .. more] };

    /// <summary>
    /// The payload's object may be absent without an error (a claim when nothing is ready): its field is then null.
    /// </summary>
    public bool MayFindNothing { get; init; }

    /// <summary>
    /// Work done before the write, in the request's transaction (retention's archive: what the write deletes is read and
    /// written out first). It refuses with an exception, and then nothing is written.
    /// </summary>
    public Func<IDictionary<string, object?>, RequestDatabase, IServiceProvider, CancellationToken, Task>? Prepare { get; init; }

    /// <summary>This mutation with <paramref name="prepare"/> before its write (see <see cref="Prepare"/>).</summary>
    public MutationSpec Preparing(Func<IDictionary<string, object?>, RequestDatabase, IServiceProvider, CancellationToken, Task> prepare) =>
        this with { Prepare = prepare };

    /// <summary>For a delete: the type whose global id the payload's <c>deletedId</c> is.</summary>
    public EntityMap? Deletes { get; init; }

    /// <summary>This mutation with input fields that take the global ids of these types (see <see cref="Ids"/>).</summary>
    public MutationSpec WithIds(params (string Field, EntityMap Type)[] ids) =>
        this with { Ids = ids.ToDictionary(i => i.Field, i => i.Type, StringComparer.Ordinal) };

    /// <summary>This delete, whose <c>input.id</c> and <c>deletedId</c> are global ids of <paramref name="type"/>.</summary>
    public MutationSpec Deleting(EntityMap type) => WithIds(("id", type)) with { Deletes = type };

    /// <summary>A lookup by the key the write statement stored, cast to <paramref name="sqlType"/>.</summary>
    public static Func<IDictionary<string, object?>, SqlAlias, StatementScope, Sql> KeyFromWrite(string column, string sqlType) =>
        (_, alias, _) => Sql.Of($"{alias.Column(column)} = nullif(current_setting('wg.mutation_key'), '')::{Sql.Raw(sqlType)}");

    /// <summary>Wraps a SQL expression that yields the changed key into the write statement.</summary>
    public static Sql StoreKey(Sql keyExpression) =>
        Sql.Of($"SELECT set_config('wg.mutation_key', coalesce(({keyExpression})::text, ''), true)");

    /// <summary>
    /// A data-modifying statement (INSERT … ON CONFLICT, DELETE) whose affected row's id becomes the mutation's key;
    /// '' when no row changed.
    /// </summary>
    public static Sql StoreChangedId(Sql statement) =>
        Sql.Of($"WITH changed AS ({statement} RETURNING id) " +
               $"SELECT set_config('wg.mutation_key', coalesce((SELECT id::text FROM changed), ''), true)");
}

/// <summary>An object of a mutation's payload: its field, its entity and how to find the changed row.</summary>
public sealed record PayloadObject(
    string Field, EntityMap Entity, Func<IDictionary<string, object?>, SqlAlias, StatementScope, Sql> Lookup)
{
    /// <summary>A list of objects (every row the lookup finds, in key order; empty when none) instead of one.</summary>
    public bool Many { get; init; }
}
