namespace WorkflowGraph.Tenancy;

/// <summary>What a caller may do: viewers query, operators also run executions, admins also change configuration.</summary>
public enum TenantRole { None = 0, Viewer = 1, Operator = 2, Admin = 3 }
