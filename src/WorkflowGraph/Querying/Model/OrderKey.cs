namespace WorkflowGraph.Querying.Model;

/// <summary>One sort key of an entity's default order.</summary>
public sealed record OrderKey(string Column, bool Descending);
