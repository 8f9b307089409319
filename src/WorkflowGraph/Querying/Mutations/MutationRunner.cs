using System.Text;
using System.Text.Json;
using GraphQL;
using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Selection;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Querying.Mutations;

/// <summary>Reading a mutation's <c>input</c> object into SQL parameters.</summary>
public static class MutationInput
{
    /// <summary>An optional input field: absent and null both read as null.</summary>
    public static object? Get(this IDictionary<string, object?> input, string name) => input.TryGetValue(name, out var value) ? value : null;

    /// <summary>An enum value as the lower-case text the SQL domains hold.</summary>
    public static string Enum(SqlBuilder sql, object? value) => sql.Add(SqlBuilder.ToDbValue(value, ScalarKind.Enum), NpgsqlDbType.Text);
}

/// <summary>One offending input field of a <c>ValidationError</c>.</summary>
public sealed record FieldProblem(string Field, string Message);

/// <summary>An entry of a payload's <c>errors</c>: <see cref="TypeName"/> is the GraphQL error type.</summary>
public sealed record MutationError(string TypeName, string Message, IReadOnlyList<FieldProblem>? Fields = null)
{
    public const string NotFound = "NotFoundError";
    public const string InvalidState = "InvalidStateError";
    public const string Validation = "ValidationError";
    public const string Duplicate = "DuplicateError";
}

/// <summary>What a mutation returns: the changed object as finished JSON (one per alias), a result, or errors.</summary>
public sealed class MutationPayload
{
    public Dictionary<string, RawJson?> Entities { get; } = new(StringComparer.Ordinal);
    public string? Result { get; set; }
    public IReadOnlyList<MutationError>? Errors { get; set; }
}

/// <summary>
/// How one mutation writes: <see cref="Write"/> is the statement that changes data (a SQL helper function call
/// for executions); <see cref="Lookup"/> finds the changed row for the payload's object in the next statement of
/// the same round trip, which sees the write. A statement may leave the changed key in the transaction-local
/// setting <c>wg.mutation_key</c> (<see cref="KeyFromWrite"/>).
/// </summary>
public sealed record MutationSpec(
    string Field,
    TenantRole Role,
    Func<IDictionary<string, object?>, SqlBuilder, string> Write,
    string? PayloadField = null,
    EntityMap? Entity = null,
    Func<IDictionary<string, object?>, string, SqlBuilder, string>? Lookup = null)
{
    /// <summary>A lookup by the key the write statement stored, cast to <paramref name="sqlType"/>.</summary>
    public static Func<IDictionary<string, object?>, string, SqlBuilder, string> KeyFromWrite(string column, string sqlType) =>
        (_, alias, _) => $"{alias}.{column} = nullif(current_setting('wg.mutation_key'), '')::{sqlType}";

    /// <summary>Wraps a SQL expression that yields the changed key into the write statement.</summary>
    public static string StoreKey(string keyExpression) => $"SELECT set_config('wg.mutation_key', coalesce(({keyExpression})::text, ''), true)";
}

/// <summary>
/// Runs a mutation: role check, input size check, then the write and the payload's projection in one round trip
/// inside a savepoint. A SQL error becomes a typed entry of the payload's errors and leaves nothing written.
/// </summary>
public sealed class MutationRunner(Projection projection, QueryLimits limits)
{
    public async Task<object?> ExecuteAsync(IResolveFieldContext context, MutationSpec spec, RequestDatabase database,
        IReadOnlyCollection<string> allowedErrors)
    {
        if (database.Tenant.Role < spec.Role)
            throw new ExecutionError($"{spec.Field} needs the {spec.Role.ToString().ToLowerInvariant()} role") { Code = "FORBIDDEN" };

        var field = SelectionReader.Read(context);
        var input = (IDictionary<string, object?>)field.Argument("input")!;
        var payload = new MutationPayload();
        var oversized = OversizedJson(input);
        if (oversized.Count > 0)
        {
            payload.Errors = [Allowed(new MutationError(MutationError.Validation, "the input is too large", oversized), allowedErrors)];
            return payload;
        }

        var write = new SqlBuilder();
        var statements = new List<Statement> { new(spec.Write(input, write), write.Parameters) };
        var entityKeys = new List<string>();
        if (spec.PayloadField is not null)
        {
            var read = new SqlBuilder();
            var alias = read.Alias();
            var columns = new List<string>();
            foreach (var child in field.ChildrenNamed(spec.PayloadField))
            {
                columns.Add(projection.Object(spec.Entity!, alias, child.Children, read));
                entityKeys.Add(child.ResponseKey);
            }
            if (columns.Count == 0)
                columns.Add("NULL::json");
            statements.Add(new Statement(
                $"SELECT {string.Join(", ", columns)} FROM {spec.Entity!.Relation} {alias} WHERE {spec.Lookup!(input, alias, read)}",
                read.Parameters));
        }

        try
        {
            await database.QueryAsync(statements, async (reader, ct) =>
            {
                // a helper returning void (complete_workflow_step) leaves nothing to read
                if (await reader.ReadAsync(ct) && reader.FieldCount > 0 && reader.GetDataTypeName(0) != "void" && !reader.IsDBNull(0))
                    payload.Result = reader.GetValue(0).ToString();
                if (spec.PayloadField is null)
                    return 0;
                await reader.NextResultAsync(ct);
                var found = await reader.ReadAsync(ct);
                for (var i = 0; i < entityKeys.Count; i++)
                    payload.Entities[entityKeys[i]] = found && !reader.IsDBNull(i) ? new RawJson(reader.GetString(i)) : null;
                // the writes in this round trip never leave their target unreadable; no row means nothing matched
                if (!found)
                    throw new MutationTargetMissingException();
                return 0;
            }, context.CancellationToken, isolate: true);
        }
        catch (PostgresException e) when (ToError(e) is { } error)
        {
            payload.Entities.Clear();
            payload.Errors = [Allowed(error, allowedErrors)];
        }
        catch (MutationTargetMissingException)
        {
            payload.Errors = [Allowed(new MutationError(MutationError.NotFound, "the object was not found"), allowedErrors)];
        }
        // a write that only reports a key (deletes) found nothing to change
        if (spec.PayloadField is null && payload.Errors is null && payload.Result == "")
            payload.Errors = [Allowed(new MutationError(MutationError.NotFound, "the object was not found"), allowedErrors)];
        return payload;
    }

    /// <summary>JSON inputs above <see cref="QueryLimits.MaxJsonInputBytes"/>, named by field.</summary>
    private List<FieldProblem> OversizedJson(IDictionary<string, object?> input)
    {
        var problems = new List<FieldProblem>();
        foreach (var (name, value) in input)
        {
            if (value is not (IDictionary<string, object?> or System.Collections.IList))
                continue;
            var bytes = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(value));
            if (bytes > limits.MaxJsonInputBytes)
                problems.Add(new FieldProblem(name, $"is {bytes} bytes of JSON; the limit is {limits.MaxJsonInputBytes}"));
        }
        return problems;
    }

    /// <summary>A JSON input as a jsonb parameter (null stays SQL NULL).</summary>
    public static string Json(SqlBuilder sql, object? value) =>
        sql.Add(value is null ? null : JsonSerializer.Serialize(value), NpgsqlDbType.Jsonb);

    /// <summary>PostgreSQL's reasons as payload errors; anything unexpected stays an exception (DATABASE_ERROR).</summary>
    public static MutationError? ToError(PostgresException e) => e.SqlState switch
    {
        "WF001" => new(MutationError.NotFound, e.MessageText),
        "WF002" => new(MutationError.InvalidState, e.MessageText),
        "WF003" => new(MutationError.Validation, e.MessageText, FieldsFromDetail(e.Detail)),
        "WF004" or "23505" => new(MutationError.Duplicate, e.SqlState == "23505" ? "an object with the same identity already exists" : e.MessageText),
        "23503" or "42501" => new(MutationError.NotFound, "a referenced object was not found"),
        "23502" => new(MutationError.Validation, $"{e.ColumnName} is required", [new FieldProblem(Camel(e.ColumnName), "is required")]),
        "23514" or "23P01" => new(MutationError.Validation, $"the input breaks the rule {e.ConstraintName}",
            [new FieldProblem(ConstraintField(e.ConstraintName), $"breaks {e.ConstraintName}")]),
        _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) => new(MutationError.Validation, e.MessageText, []),
        _ => null,
    };

    private static MutationError Allowed(MutationError error, IReadOnlyCollection<string> allowed) =>
        allowed.Contains(error.TypeName) ? error
        : allowed.Contains(MutationError.Validation) ? error with { TypeName = MutationError.Validation, Fields = error.Fields ?? [] }
        : error with { TypeName = allowed.First() };

    private static IReadOnlyList<FieldProblem> FieldsFromDetail(string? detail)
    {
        if (string.IsNullOrEmpty(detail) || detail[0] != '[')
            return [];
        try
        {
            using var document = JsonDocument.Parse(detail);
            return document.RootElement.EnumerateArray()
                .Select(p => new FieldProblem(p.GetProperty("field").GetString()!, p.GetProperty("message").GetString()!)).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>The column a CHECK constraint named table_column_rule or table_column_check is about.</summary>
    private static string ConstraintField(string? constraint)
    {
        if (constraint is null)
            return "input";
        var name = constraint.EndsWith("_check", StringComparison.Ordinal) ? constraint[..^6] : constraint;
        foreach (var table in new[] { "workflow_configs_", "channel_configs_", "workflow_channel_configs_", "node_io_requirements_",
                     "workflow_data_bindings_", "workflow_trace_context_", "workflow_trace_", "workflow_steps_" })
            if (name.StartsWith(table, StringComparison.Ordinal))
                return Camel(name[table.Length..]);
        return Camel(name);
    }

    private static string Camel(string? column) =>
        string.IsNullOrEmpty(column) ? "input"
        : string.Concat(column.Split('_').Select((part, i) => i == 0 || part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));

    private sealed class MutationTargetMissingException : Exception;
}
