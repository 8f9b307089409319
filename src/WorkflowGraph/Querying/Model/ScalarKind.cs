namespace WorkflowGraph.Querying.Model;

/// <summary>What a GraphQL scalar becomes in SQL: the parameter type for filters and the read conversion.</summary>
public enum ScalarKind { String, Int, Long, Float, Boolean, Uuid, DateTime, Json, Enum }
