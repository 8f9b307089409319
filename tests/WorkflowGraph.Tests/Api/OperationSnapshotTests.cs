using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQLParser;
using GraphQLParser.AST;
using Snapshooter;
using Snapshooter.Xunit;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// The representative operations in Operations/*.graphql: each snapshot holds the JSON result and the SQL that
/// ran, so a projection or N+1 regression shows in review; each root field costs exactly one statement.
/// </summary>
public sealed class OperationSnapshotTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    public static TheoryData<string> Operations => new(
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Operations"), "*.graphql")
            .Select(Path.GetFileNameWithoutExtension).Order()!);

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Operation_result_and_sql_match_the_snapshot(string name)
    {
        var document = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Operations", name + ".graphql"));

        var response = await api.PostAsync(document);

        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Equal(RootFieldCount(document), response.Statements.Count);
        Snapshot.Match(new
        {
            result = WithoutClockTimes(JsonNode.Parse(response.Body.GetRawText())!),
            sql = response.Statements,
        }.ToSnapshotJson(), SnapshotNameExtension.Create(name));
    }

    /// <summary>
    /// The statistics' <c>rollupsAsOf</c> is the time the rollup job last ran: a snapshot holds only that it is a time.
    /// </summary>
    private static JsonNode WithoutClockTimes(JsonNode result)
    {
        if (result["extensions"]?["stats"] is JsonObject stats)
        {
            foreach (var (_, field) in stats)
            {
                if (field?["rollupsAsOf"] is JsonValue asOf
                    && DateTime.TryParse(asOf.GetValue<string>(), CultureInfo.InvariantCulture, out _))
                    field["rollupsAsOf"] = "(a time)";
            }
        }
        return result;
    }

    /// <summary>Root fields the engine answers (not __typename), through fragments too.</summary>
    private static int RootFieldCount(string document)
    {
        var ast = Parser.Parse(document);
        var operation = ast.Definitions.OfType<GraphQLOperationDefinition>().Single();
        return Count(ast, operation.SelectionSet);

        static int Count(GraphQLDocument ast, GraphQLSelectionSet set) => set.Selections.Sum(selection => CountOne(ast, selection));

        static int CountOne(GraphQLDocument ast, ASTNode selection) => selection switch
        {
            GraphQLField field => field.Name.StringValue.StartsWith("__", StringComparison.Ordinal) ? 0 : 1,
            GraphQLInlineFragment inline => Count(ast, inline.SelectionSet),
            GraphQLFragmentSpread spread => Count(ast, ast.FindFragmentDefinition(spread.FragmentName.Name)!.SelectionSet),
            _ => 0,
        };
    }
}

internal static class SnapshotJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Snapshooter compares JSON text; System.Text.Json objects go in as a parsed Newtonsoft tree.</summary>
    public static Newtonsoft.Json.Linq.JToken ToSnapshotJson(this object value) =>
        Newtonsoft.Json.Linq.JToken.Parse(JsonSerializer.Serialize(value, Indented));
}
