namespace WorkflowGraph.Tests.Hostile;

/// <summary>The one place these tests name a run in GraphQL: its argument type and the value for a row id.</summary>
internal static class HostileIds
{
    public const string TraceIdType = "Long!";

    public static object Trace(long rowId) => rowId;
}
