using Npgsql;

namespace WorkflowGraph.Database;

/// <summary>
/// Which database failures say "the database is not there right now" (a restart, a shutdown, a broken connection, no
/// connection to be had) rather than "this statement failed": the first kind is worth retrying as it is.
/// </summary>
public static class DatabaseFailures
{
    public static bool IsUnavailable(Exception error) => error switch
    {
        // 57P01 admin shutdown / terminated, 57P02 crash shutdown, 57P03 cannot connect now; class 08: connection
        // exceptions; 53300: too many connections
        PostgresException postgres => postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
                                      || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                                      || postgres.SqlState == PostgresErrorCodes.TooManyConnections,
        // I/O and connection failures below PostgreSQL (Npgsql marks them transient)
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException,
        _ => false,
    };
}
