using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Tests.Mutations;
using static WorkflowGraph.Tests.Mutations.PayloadErrors;

namespace WorkflowGraph.Tests.Phi;

/// <summary>Classification: node fields carry a sensitivity, admins classify context keys, configuration keys and columns.</summary>
public sealed class PhiClassificationTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Upsert = """
        mutation ($nodeId: ID!, $field: String!, $sensitivity: Sensitivity) {
          upsertNodeIoRequirement(
            input: { nodeId: $nodeId, direction: "input", fieldName: $field, fieldType: "string", sensitivity: $sensitivity }
          ) {
            nodeIoRequirement { fieldName sensitivity }
            errors { __typename }
          }
        }
        """;

    private const string SetRule = """
        mutation ($target: PhiRuleTarget!, $key: String!, $sensitivity: Sensitivity!) {
          setPhiClassificationRule(input: { target: $target, key: $key, sensitivity: $sensitivity }) {
            phiClassificationRule { id target key sensitivity createdBy }
            errors { __typename ... on Error { message } }
          }
        }
        """;

    private async Task<JsonElement> PayloadAsync(string query, object variables, string field, Guid? org = null,
        TenantRole role = TenantRole.Admin)
    {
        var response = await api.PostAsync(query, variables, org, role: role);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty(field);
    }

    [Fact]
    public async Task A_node_field_has_a_sensitivity_that_defaults_to_none_and_is_filterable()
    {
        var workflow = await FreshWorkflow.CreateAsync(api);
        var node = Ids.Node(workflow.Nodes[0]);
        var plain = await PayloadAsync(Upsert, new { nodeId = node, field = "payer" }, "upsertNodeIoRequirement");
        Assert.Equal("NONE", plain.GetProperty("nodeIoRequirement").GetProperty("sensitivity").GetString());
        var phi = await PayloadAsync(Upsert, new { nodeId = node, field = "memberId", sensitivity = "PHI" }, "upsertNodeIoRequirement");
        Assert.Equal("PHI", phi.GetProperty("nodeIoRequirement").GetProperty("sensitivity").GetString());
        // an upsert replaces the classification
        var pii = await PayloadAsync(Upsert, new { nodeId = node, field = "payer", sensitivity = "PII" }, "upsertNodeIoRequirement");
        Assert.Equal("PII", pii.GetProperty("nodeIoRequirement").GetProperty("sensitivity").GetString());

        var listed = await api.PostAsync($$"""
            { nodeIoRequirements(where: { nodeId: { eq: "{{node}}" }, sensitivity: { eq: PHI } }) { nodes { fieldName sensitivity } } }
            """);
        var nodes = listed.Data.GetProperty("nodeIoRequirements").GetProperty("nodes");
        Assert.Equal(["memberId"], nodes.EnumerateArray().Select(n => n.GetProperty("fieldName").GetString()));
    }

    [Fact]
    public async Task Admins_set_replace_and_delete_rules_and_another_organisation_sees_none_of_them()
    {
        var key = "member_" + Guid.NewGuid().ToString("N");
        var set = await PayloadAsync(SetRule, new { target = "CONTEXT_KEY", key, sensitivity = "PII" }, "setPhiClassificationRule");
        var rule = set.GetProperty("phiClassificationRule");
        Assert.Equal("CONTEXT_KEY", rule.GetProperty("target").GetString());
        Assert.Equal(GraphApiFixture.UserA, rule.GetProperty("createdBy").GetGuid());
        var replaced = (await PayloadAsync(SetRule, new { target = "CONTEXT_KEY", key, sensitivity = "PHI" }, "setPhiClassificationRule"))
            .GetProperty("phiClassificationRule");
        Assert.Equal(rule.GetProperty("id").GetString(), replaced.GetProperty("id").GetString());
        Assert.Equal("PHI", replaced.GetProperty("sensitivity").GetString());

        var query = $$"""{ phiClassificationRules(where: { key: { eq: "{{key}}" } }) { nodes { sensitivity } } }""";
        var mine = await api.PostAsync(query, role: TenantRole.Viewer);
        Assert.Equal(1, mine.Data.GetProperty("phiClassificationRules").GetProperty("nodes").GetArrayLength());
        var theirs = await api.PostAsync(query, org: GraphApiFixture.OrgB);
        Assert.Equal(0, theirs.Data.GetProperty("phiClassificationRules").GetProperty("nodes").GetArrayLength());

        const string Delete = """
            mutation ($id: ID!) { deletePhiClassificationRule(input: { id: $id }) { deletedId errors { __typename } } }
            """;
        var id = rule.GetProperty("id").GetString();
        var foreign = await PayloadAsync(Delete, new { id }, "deletePhiClassificationRule", GraphApiFixture.OrgB);
        Assert.Equal("NotFoundError", ErrorType(foreign));
        var deleted = await PayloadAsync(Delete, new { id }, "deletePhiClassificationRule");
        Assert.Equal(id, deleted.GetProperty("deletedId").GetString());
        var after = await api.PostAsync(query);
        Assert.Equal(0, after.Data.GetProperty("phiClassificationRules").GetProperty("nodes").GetArrayLength());
    }

    [Fact]
    public async Task Only_known_identifier_columns_and_bounded_keys_can_be_classified_and_only_by_admins()
    {
        var unknownColumn = await PayloadAsync(SetRule, new { target = "COLUMN", key = "name", sensitivity = "PHI" },
            "setPhiClassificationRule");
        Assert.Equal("ValidationError", ErrorType(unknownColumn));
        var tooLong = await PayloadAsync(SetRule, new { target = "CONFIG_KEY", key = new string('k', 201), sensitivity = "PHI" },
            "setPhiClassificationRule");
        Assert.Equal("ValidationError", ErrorType(tooLong));
        var column = await PayloadAsync(SetRule, new { target = "COLUMN", key = "error_message", sensitivity = "NONE" },
            "setPhiClassificationRule");
        Assert.Null(ErrorType(column));

        var operatorTry = await api.PostAsync(SetRule, new { target = "CONFIG_KEY", key = "x", sensitivity = "PHI" },
            role: TenantRole.Operator);
        Assert.Contains("FORBIDDEN", operatorTry.ErrorCodes);
        var rows = await api.PostAsync("""{ phiClassificationRules(where: { key: { in: ["name", "x"] } }) { totalCount } }""");
        Assert.Equal(0, rows.Data.GetProperty("phiClassificationRules").GetProperty("totalCount").GetInt32());
    }
}
