using System.Text;
using System.Text.Json;
using GraphQL;
using Npgsql;
using WorkflowGraph.Database;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Plans;
using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Querying.Mutations;

/// <summary>
/// Runs a mutation: role check, input size check, then the write and the payload's projection in one round trip
/// inside a savepoint. A SQL error becomes a typed entry of the payload's errors and leaves nothing written.
/// </summary>
public sealed class MutationRunner(ShapePlanner shapes, QueryLimits limits)
{
    public async Task<object?> ExecuteAsync(IResolveFieldContext context, MutationSpec spec, RequestDatabase database,
        IReadOnlyCollection<string> allowedErrors)
    {
        if (database.Tenant.Role < spec.Role)
            throw new ExecutionError($"{spec.Field} needs the {spec.Role.ToString().ToLowerInvariant()} role") { Code = "FORBIDDEN" };

        var field = SelectionReader.Read(context);
        var input = DecodeIds((IDictionary<string, object?>)field.Argument("input")!, spec.Ids);
        var payload = new MutationPayload();
        var oversized = OversizedJson(input);
        if (oversized.Count > 0)
        {
            var tooLarge = new MutationError(MutationError.Validation, "the input is too large", oversized);
            payload.Errors = [MutationErrors.Allowed(tooLarge, allowedErrors)];
            return payload;
        }

        if (spec.Prepare is { } prepare)
            await prepare(input, database, context.RequestServices!, context.CancellationToken);

        var write = new StatementScope();
        var statements = new List<Statement> { new(spec.Write(input, write).ToString(), write.Parameters) };
        // the payload's own object first (its row must exist), then any others it also returns
        var objects = spec.PayloadField is null
            ? new List<PayloadObject>()
            : [new PayloadObject(spec.PayloadField, spec.Entity!, spec.Lookup!), .. spec.Also];
        var entityKeys = new List<List<string>>();
        var audits = new List<IReadOnlySet<string>>();
        foreach (var payloadObject in objects)
        {
            var read = new StatementScope { PhiRead = database.Tenant.PhiRead };
            var alias = read.Alias();
            var columns = new List<Sql>();
            var keys = new List<string>();
            var objectShapes = field.ChildrenNamed(payloadObject.Field)
                .Select(child => (child, shapes.Plan(payloadObject.Entity, child.Children))).ToList();
            foreach (var (child, shape) in objectShapes)
            {
                columns.Add(ObjectSql.Build(shape, alias, read));
                keys.Add(child.ResponseKey);
            }
            if (columns.Count == 0)
                columns.Add(Sql.Raw("NULL::json"));
            // the payload shows the object to a reader with phi:read: its classified fields and run are audited
            var audited = PhiAudit.Fields(database, objectShapes.Select(o => o.Item2));
            if (audited.Count > 0)
                columns.Add(Sql.Join(" || ", objectShapes.Select(o => AuditSql.RunIds(o.Item2, alias, read))));
            audits.Add(audited);
            var lookup = payloadObject.Lookup(input, alias, read);
            if (payloadObject.Many)
            {
                var order = Sql.Join(", ", payloadObject.Entity.Key.Select(k => (Sql)alias.Column(k)).ToList());
                columns = columns.Select(c => Sql.Of($"coalesce(json_agg({c} ORDER BY {order}), '[]'::json)")).ToList();
            }
            statements.Add(new Statement(
                Sql.Of($"SELECT {Sql.Join(", ", columns)} FROM {Sql.Raw(payloadObject.Entity.Relation)} {alias} WHERE {lookup}").ToString(),
                read.Parameters));
            entityKeys.Add(keys);
        }

        try
        {
            await database.QueryAsync(statements, async (reader, ct) =>
            {
                // a helper returning void (complete_workflow_step) leaves nothing to read
                if (await reader.ReadAsync(ct) && reader.FieldCount > 0 && reader.GetDataTypeName(0) != "void" && !reader.IsDBNull(0))
                    payload.Result = reader.GetValue(0).ToString();
                for (var o = 0; o < entityKeys.Count; o++)
                {
                    await reader.NextResultAsync(ct);
                    var found = await reader.ReadAsync(ct);
                    for (var i = 0; i < entityKeys[o].Count; i++)
                        payload.Entities[entityKeys[o][i]] = found && !reader.IsDBNull(i) ? new RawJson(reader.GetString(i)) : null;
                    if (found && audits[o].Count > 0)
                    {
                        // a list of objects (a bulk operation's sample) aggregates each row's runs into a JSON array
                        var runs = objects[o].Many
                            ? RunsOfEach(reader.GetString(entityKeys[o].Count))
                            : reader.GetFieldValue<long[]>(entityKeys[o].Count);
                        if (runs.Length > 0)
                            database.PhiAccess.Add(audits[o], runs);
                    }
                    // the writes in this round trip never leave their target unreadable; no row means nothing matched
                    if (!found && o == 0 && !spec.MayFindNothing)
                        throw new MutationTargetMissingException();
                }
                return 0;
            }, context.CancellationToken, isolate: true);
        }
        catch (PostgresException e) when (MutationErrors.From(e) is { } error)
        {
            // what was read is not shown (the payload reports the error); a record already added stays: over-recorded, never under
            payload.Entities.Clear();
            payload.Errors = [MutationErrors.Allowed(error, allowedErrors)];
        }
        catch (MutationTargetMissingException)
        {
            payload.Errors = [MutationErrors.Allowed(new MutationError(MutationError.NotFound, "the object was not found"), allowedErrors)];
        }
        // a write that only reports a key (deletes) found nothing to change
        if (spec.PayloadField is null && payload.Errors is null && payload.Result == "")
            payload.Errors = [MutationErrors.Allowed(new MutationError(MutationError.NotFound, "the object was not found"), allowedErrors)];
        return payload;
    }

    /// <summary>The input with each global id replaced by its database key.</summary>
    private static Dictionary<string, object?> DecodeIds(IDictionary<string, object?> input, IReadOnlyDictionary<string, EntityMap> ids)
    {
        var decoded = new Dictionary<string, object?>(input, StringComparer.Ordinal);
        foreach (var (name, map) in ids)
            if (decoded.TryGetValue(name, out var value))
                decoded[name] = value is not string && value is IEnumerable<object?> list
                    ? list.Select(id => GlobalId.Decode(id, map)).ToList()
                    : GlobalId.Decode(value, map);
        return decoded;
    }

    /// <summary>Input values above <see cref="QueryLimits.MaxJsonInputBytes"/> (objects, lists, strings and numbers alike),
    /// named by field.</summary>
    private List<FieldProblem> OversizedJson(IDictionary<string, object?> input)
    {
        var problems = new List<FieldProblem>();
        foreach (var (name, value) in input)
        {
            var bytes = JsonSize(value, limits.MaxJsonInputBytes);
            if (bytes > limits.MaxJsonInputBytes)
                problems.Add(new FieldProblem(name, $"is more than {limits.MaxJsonInputBytes} bytes of JSON, the limit"));
        }
        return problems;
    }

    /// <summary>About the size of <paramref name="value"/> as JSON text (strings as UTF-8 plus quotes), counted without
    /// writing it and without recursion; counting stops once past <paramref name="limit"/>.</summary>
    private static long JsonSize(object? value, long limit)
    {
        long size = 0;
        var pending = new Stack<object?>();
        pending.Push(value);
        while (pending.Count > 0 && size <= limit)
        {
            switch (pending.Pop())
            {
                case null or bool:
                    size += 5;
                    break;
                case string text:
                    size += Encoding.UTF8.GetByteCount(text) + 2;
                    break;
                case IDictionary<string, object?> map:
                    size += 2;
                    foreach (var (key, item) in map)
                    {
                        size += Encoding.UTF8.GetByteCount(key) + 4;
                        pending.Push(item);
                    }
                    break;
                case System.Collections.IEnumerable list:
                    size += 2;
                    foreach (var item in list)
                    {
                        size += 1;
                        pending.Push(item);
                    }
                    break;
                case IFormattable number:
                    size += number.ToString(null, System.Globalization.CultureInfo.InvariantCulture).Length;
                    break;
                default:
                    size += 8;
                    break;
            }
        }
        return size;
    }

    /// <summary>The run ids of every row of a list payload: <c>json_agg</c> of each row's <c>bigint[]</c>.</summary>
    private static long[] RunsOfEach(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray()
            .Where(row => row.ValueKind == JsonValueKind.Array)
            .SelectMany(row => row.EnumerateArray().Select(id => id.GetInt64()))
            .ToArray();
    }

    private sealed class MutationTargetMissingException : Exception;
}
