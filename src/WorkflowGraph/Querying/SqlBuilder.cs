using Npgsql;
using NpgsqlTypes;
using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying;

/// <summary>Collects the parameters of one statement and hands out row aliases; values never enter the SQL text.</summary>
public sealed class SqlBuilder
{
    private int _aliases;

    public List<NpgsqlParameter> Parameters { get; } = [];

    public string Alias() => $"t{_aliases++}";

    /// <summary>Adds a typed parameter and returns its placeholder.</summary>
    public string Add(object? value, NpgsqlDbType type)
    {
        Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        return $"${Parameters.Count}";
    }

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
}
