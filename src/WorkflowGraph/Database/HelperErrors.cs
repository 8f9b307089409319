namespace WorkflowGraph.Database;

/// <summary>The kinds of error the SQL helper functions raise (db/CONVENTIONS.md, SQLSTATE class WF).</summary>
public enum HelperError { NotFound, InvalidState, Validation, Duplicate }

/// <summary>The one table from a helper's SQLSTATE to its kind, read by queries and mutations alike.</summary>
public static class HelperErrors
{
    /// <returns>The kind, or null for a SQLSTATE no helper raises.</returns>
    public static HelperError? Classify(string sqlState) => sqlState switch
    {
        "WF001" => HelperError.NotFound,
        "WF002" => HelperError.InvalidState,
        "WF003" => HelperError.Validation,
        "WF004" => HelperError.Duplicate,
        _ => null,
    };
}
