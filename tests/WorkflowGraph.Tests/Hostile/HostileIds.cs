using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>The one place these tests name a run in GraphQL: its argument type and the value for a row id.</summary>
internal static class HostileIds
{
    public const string TraceIdType = "ID!";

    public static object Trace(long rowId) => Ids.Trace(rowId);

    /// <summary>The run's id as a GraphQL literal.</summary>
    public static string TraceLiteral(long rowId) => $"\"{Ids.Trace(rowId)}\"";
}
