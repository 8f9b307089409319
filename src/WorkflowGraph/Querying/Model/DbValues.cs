using System.Text.Json;
using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;

namespace WorkflowGraph.Querying.Model;

/// <summary>How a GraphQL value of a <see cref="ScalarKind"/> travels to PostgreSQL: its parameter type and CLR value.</summary>
public static class DbValues
{
    public static NpgsqlDbType TypeOf(ScalarKind kind) => kind switch
    {
        ScalarKind.String or ScalarKind.Enum => NpgsqlDbType.Text,
        ScalarKind.Int => NpgsqlDbType.Integer,
        ScalarKind.Long => NpgsqlDbType.Bigint,
        ScalarKind.Float => NpgsqlDbType.Double,
        ScalarKind.Boolean => NpgsqlDbType.Boolean,
        ScalarKind.Uuid => NpgsqlDbType.Uuid,
        ScalarKind.DateTime => NpgsqlDbType.TimestampTz,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not comparable in SQL"),
    };

    /// <summary>A GraphQL input value as the CLR value Npgsql writes for <paramref name="kind"/>.</summary>
    public static object? ToDbValue(object? value, ScalarKind kind) => value switch
    {
        null => null,
        string s when kind == ScalarKind.Enum => s.ToLowerInvariant(),
        DateTimeOffset d => d.ToUniversalTime(),
        DateTime d => d.Kind == DateTimeKind.Utc ? d : d.ToUniversalTime(),
        int i when kind == ScalarKind.Long => (long)i,
        int i when kind == ScalarKind.Float => (double)i,
        long l when kind == ScalarKind.Float => (double)l,
        decimal m when kind == ScalarKind.Float => (double)m,
        System.Numerics.BigInteger b when kind == ScalarKind.Long => (long)b,
        _ => value,
    };

    /// <summary>An enum value as the lower-case text the SQL domains hold.</summary>
    public static Sql EnumParameter(this StatementScope scope, object? value) =>
        scope.Parameter(ToDbValue(value, ScalarKind.Enum), NpgsqlDbType.Text);

    /// <summary>A JSON input as a jsonb parameter (null stays SQL NULL).</summary>
    public static Sql JsonParameter(this StatementScope scope, object? value) =>
        scope.Parameter(value is null ? null : JsonSerializer.Serialize(value), NpgsqlDbType.Jsonb);
}
