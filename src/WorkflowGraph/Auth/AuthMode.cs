namespace WorkflowGraph.Auth;

public enum AuthMode { SigningKey, Authority, Development }
