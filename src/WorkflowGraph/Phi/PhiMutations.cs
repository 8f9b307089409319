using NpgsqlTypes;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.Querying.Model;
using WorkflowGraph.Querying.Mutations;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Phi;

/// <summary>Admins classify their organisation's keys; a rule for a key replaces the previous one.</summary>
public static class PhiMutations
{
    public static void Register(GraphModel model)
    {
        var rule = model.Catalog.Get("PhiClassificationRule");
        model.Mutation(new MutationSpec("setPhiClassificationRule", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(Sql.Of(
                    $"INSERT INTO phi_classification_rules (target, key, sensitivity) " +
                    $"VALUES ({scope.EnumParameter(input["target"])}, {scope.Parameter(input["key"], NpgsqlDbType.Text)}, " +
                    $"{scope.EnumParameter(input["sensitivity"])}) " +
                    $"ON CONFLICT (org_id, target, key) DO UPDATE SET sensitivity = EXCLUDED.sensitivity")),
                "phiClassificationRule", rule, MutationSpec.KeyFromWrite("id", "uuid")))
            .Mutation(new MutationSpec("deletePhiClassificationRule", TenantRole.Admin,
                (input, scope) => MutationSpec.StoreChangedId(
                    Sql.Of($"DELETE FROM phi_classification_rules WHERE id = {scope.Parameter(input["id"], NpgsqlDbType.Uuid)}")))
                .Deleting(rule));
    }
}
