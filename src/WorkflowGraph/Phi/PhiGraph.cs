using WorkflowGraph.Querying.Model;
using WorkflowGraph.SchemaBinding;

namespace WorkflowGraph.Phi;

/// <summary>The classification rules of context keys, configuration keys and identifier columns (db/migrations/035).</summary>
public static class PhiGraph
{
    public static void Register(GraphModel model)
    {
        var rule = new EntityMap
        {
            TypeName = "PhiClassificationRule",
            Relation = "phi_classification_rules",
            Key = ["id"],
            DefaultOrder = [new("target", Descending: false), new("key", Descending: false)],
        };
        model.Entities(rule).Connection("phiClassificationRules", rule);
    }
}
