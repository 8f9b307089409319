namespace WorkflowGraph.Querying.Model;

public enum RelationKind
{
    /// <summary>Exactly one target row (non-null field).</summary>
    One,
    /// <summary>Zero or one target row (nullable field).</summary>
    Optional,
    /// <summary>A list of target rows.</summary>
    Many,
}
