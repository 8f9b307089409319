using GraphQL;
using GraphQLParser;
using GraphQLParser.AST;
using GraphQLParser.Visitors;
using Snapshooter.Xunit;
using WorkflowGraph.Querying;
using WorkflowGraph.Querying.Fragments;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tests.Database;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

public sealed class SchemaTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static GraphQL.Types.ISchema Build(string sdl, Action<GraphModel>? change = null)
    {
        var model = GraphModel.Build(new QueryLimits(), Features.All);
        change?.Invoke(model);
        return SchemaBinder.Bind(model, sdl);
    }

    [Fact]
    public void The_printed_schema_matches_the_snapshot()
    {
        Snapshot.Match(Build(SchemaDocument.Text).Print());
    }

    [Fact]
    public void The_served_schema_is_the_sdl_in_the_schema_folder()
    {
        var files = Directory.GetFiles(Path.Combine(RepoFolder(), "schema"), "*.graphql").Order().Select(File.ReadAllText);
        var fromFiles = Definitions(string.Join("\n", files));
        var served = Definitions(Build(SchemaDocument.Text).Print());

        Assert.Equal(fromFiles.Keys, served.Keys);
        foreach (var (name, definition) in fromFiles)
            Assert.True(definition == served[name], $"{name} differs:\n--- schema/\n{definition}\n--- served\n{served[name]}");
    }

    [Fact]
    public void Startup_fails_when_an_sdl_field_has_no_resolver()
    {
        var sdl = SchemaDocument.Text.Replace(
            "type WorkflowTrace implements Node {",
                "type WorkflowTrace implements Node {\n  ghost: String!\n  phantom(x: Int): [WorkflowStep!]!");
        var error = Assert.Throws<InvalidOperationException>(() => Build(sdl));
        Assert.Contains("WorkflowTrace.phantom", error.Message);
        Assert.Contains("no relation is mapped", error.Message);
    }

    [Fact]
    public void Startup_fails_when_a_mutation_input_id_has_no_type_to_decode()
    {
        var sdl = SchemaDocument.Text.Replace(
            "input RetryWorkflowStepInput {\n  stepId: ID!", "input RetryWorkflowStepInput {\n  stepId: ID!\n  otherStepId: ID");
        var error = Assert.Throws<InvalidOperationException>(() => Build(sdl));
        Assert.Contains("retryWorkflowStep", error.Message);
        Assert.Contains("otherStepId", error.Message);
    }

    [Theory]
    [InlineData("type ConfigStatus implements Node {", "type ConfigStatus {", "does not implement Node")]
    [InlineData("type ChannelPerformance {", "type ChannelPerformance implements Node {", "implements Node but")]
    public void Startup_fails_when_the_node_types_are_not_those_with_a_single_column_id(string from, string to, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(SchemaDocument.Text.Replace(from, to)));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Startup_fails_when_an_id_field_says_nothing_of_its_type()
    {
        var sdl = SchemaDocument.Text.Replace("type WorkflowTrace implements Node {",
            "type WorkflowTrace implements Node {\n  ownerId: ID");
        var error = Assert.Throws<InvalidOperationException>(() => Build(sdl));
        Assert.Contains("WorkflowTrace.ownerId", error.Message);
    }

    [Fact]
    public void Startup_fails_when_a_resolver_has_no_sdl_field()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Build(SchemaDocument.Text, model => model.QueryFields.Add("ghostRuns", (_, _) => Task.FromResult<object?>(null))));
        Assert.Contains("Query.ghostRuns", error.Message);
    }

    [Fact]
    public async Task Every_mapped_field_reads_a_column_that_exists()
    {
        var model = GraphModel.Build(new QueryLimits(), Features.All);
        SchemaBinder.Bind(model, SchemaDocument.Text);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        foreach (var map in model.Catalog.Maps)
        {
            var columns = string.Join(", ", map.Columns.Values.Select(c => c.ValueOf(SqlAlias.Named("t"))));
            await conn.ExecAsync($"SELECT {columns} FROM {map.Relation} t LIMIT 0");
            foreach (var relation in map.Relations)
            {
                var join = relation.JoinCondition(SqlAlias.Named("t"), SqlAlias.Named("r"));
                await conn.ExecAsync($"SELECT 1 FROM {map.Relation} t JOIN {relation.Target.Relation} r ON {join} LIMIT 0");
            }
        }
    }

    /// <summary>Each type definition printed the same way, by name (built-in scalars are not printed by the engine; the
    /// engine prints <c>@specifiedBy</c>, which the specification defines and SDL files use without declaring).</summary>
    private static SortedDictionary<string, string> Definitions(string sdl)
    {
        var printer = new SDLPrinter(new SDLPrinterOptions { PrintComments = false });
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var definition in Parser.Parse(sdl).Definitions.OfType<GraphQLTypeDefinition>())
        {
            if (definition is GraphQLDirectiveDefinition { Name.StringValue: ServedSchema.SpecifiedBy })
                continue;
            var writer = new StringWriter();
            printer.PrintAsync(definition, writer).AsTask().GetAwaiter().GetResult();
            result[definition.Name.StringValue] = writer.ToString().Trim();
        }
        return result;
    }

    private static string RepoFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "WorkflowGraph.sln")))
            folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
