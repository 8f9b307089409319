using System.Text.Json;
using Npgsql;
using WorkflowGraph.Database;

namespace WorkflowGraph.Querying.Mutations;

/// <summary>
/// PostgreSQL's reasons as a payload's typed errors: the SQL helpers' own (<see cref="HelperErrors"/>) and the
/// constraints' (unique, foreign key, not null, check). Anything else stays an exception (<c>DATABASE_ERROR</c>).
/// </summary>
public static class MutationErrors
{
    public static MutationError? From(PostgresException e)
    {
        if (HelperErrors.Classify(e.SqlState) is { } helper)
            return new MutationError(MutationError.TypeOf(helper), e.MessageText,
                helper == HelperError.Validation ? FieldsFromDetail(e.Detail) : null);
        return e.SqlState switch
        {
            "23505" => new(MutationError.Duplicate, "an object with the same identity already exists"),
            "23503" or "42501" => new(MutationError.NotFound, "a referenced object was not found"),
            "23502" => new(MutationError.Validation, $"{e.ColumnName} is required", [new FieldProblem(Camel(e.ColumnName), "is required")]),
            "23514" or "23P01" => new(MutationError.Validation, $"the input breaks the rule {e.ConstraintName}",
                [new FieldProblem(ConstraintField(e.ConstraintName), $"breaks {e.ConstraintName}")]),
            _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) => new(MutationError.Validation, e.MessageText, []),
            _ => null,
        };
    }

    /// <summary>The error as one of the types the payload's <c>errors</c> union allows (the closest, else the first).</summary>
    public static MutationError Allowed(MutationError error, IReadOnlyCollection<string> allowed) =>
        allowed.Contains(error.TypeName) ? error
        : allowed.Contains(MutationError.Validation) ? error with { TypeName = MutationError.Validation, Fields = error.Fields ?? [] }
        : error with { TypeName = allowed.First() };

    /// <summary>The offending fields a helper lists as JSON in DETAIL (db/CONVENTIONS.md).</summary>
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
        : string.Concat(column.Split('_').Select((part, i) =>
            i == 0 || part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
}
