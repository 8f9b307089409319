using System.Diagnostics;
using System.Net;
using System.Text;
using GraphQL;
using GraphQL.Validation;
using GraphQLParser.AST;
using WorkflowGraph.Execution;
using WorkflowGraph.Tests.Api;

namespace WorkflowGraph.Tests.Hostile;

/// <summary>
/// Documents that are small but expand to a great deal of work are refused from their size, not their expansion:
/// fragments spreading fragments, and introspection multiplied by aliases.
/// </summary>
public sealed class DocumentCostTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    // Far below what walking 2^levels expansions takes; a measure bounded by the document's size takes milliseconds.
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    /// <summary><c>F(n)</c> spreads <c>F(n-1)</c> twice: the operation expands to 2^levels copies of F0.</summary>
    private static string FanOut(int levels, string leaf)
    {
        var document = new StringBuilder($"fragment F0 on Query {{ {leaf} }}\n");
        for (var i = 1; i <= levels; i++)
            document.Append($"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}\n");
        return document.Append($"query {{ ...F{levels} }}").ToString();
    }

    [Theory]
    [InlineData(27, "traces(first: 1) { totalCount }")]
    [InlineData(40, "traces(first: 1) { totalCount }")]
    [InlineData(40, "__typename")]
    public async Task A_fragment_fan_out_is_refused_without_walking_its_expansion(int levels, string leaf)
    {
        var clock = Stopwatch.StartNew();
        var response = await api.PostAsync(FanOut(levels, leaf));
        Assert.True(clock.Elapsed < Quick, $"took {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task A_small_fan_out_is_measured_exactly_and_runs()
    {
        // 2^3 copies of one field merge into one response key
        var response = await api.PostAsync(FanOut(3, "traces(first: 1) { totalCount }"));
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Empty(response.ErrorCodes);
        Assert.Equal(40, response.Data.GetProperty("traces").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Aliased_introspection_is_counted_by_the_cost_rule()
    {
        var aliases = string.Join(' ', Enumerable.Range(0, 1000).Select(i => $"s{i}: __schema {{ types {{ name }} }}"));
        var clock = Stopwatch.StartNew();
        var response = await api.PostAsync($"{{ {aliases} }}");
        Assert.True(clock.Elapsed < Quick, $"took {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", response.ErrorCodes);
    }

    [Fact]
    public async Task A_few_introspection_fields_still_run()
    {
        var response = await api.PostAsync("{ a: __schema { queryType { name } } b: __type(name: \"WorkflowTrace\") { name } }");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("WorkflowTrace", response.Data.GetProperty("b").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Introspection_lists_nest_only_so_deep()
    {
        var response = await api.PostAsync(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Contains("MAX_INTROSPECTION_DEPTH_EXCEEDED", response.ErrorCodes);
    }

    [Fact]
    public async Task A_cached_document_is_measured_again_with_each_requests_variables()
    {
        // 1 + 100 × (1 + (1 + m)): m = 10 costs 1,201; m = 1,000 costs 100,201, past the limit
        const string query = "query Q($m: Int) { traces(first: 100) { nodes { steps(first: $m) { id } } } }";
        for (var i = 0; i < 2; i++) // the second request reuses the cached document
        {
            var cheap = await api.PostAsync(query, new { m = 10 });
            Assert.Equal(HttpStatusCode.OK, cheap.Status);
            Assert.Empty(cheap.ErrorCodes);
        }
        var costly = await api.PostAsync(query, new { m = 1_000 });
        Assert.Equal(HttpStatusCode.BadRequest, costly.Status);
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", costly.ErrorCodes);
        Assert.Empty(costly.Statements);
        var again = await api.PostAsync(query, new { m = 10 });
        Assert.Empty(again.ErrorCodes);
    }

    [Fact]
    public async Task A_per_request_rule_that_would_walk_the_document_is_refused()
    {
        var validator = new CachedDocumentValidator();
        var options = new ValidationOptions
        {
            Document = GraphQLParser.Parser.Parse("{ __typename }"),
            Rules = new PerRequestRules(new WalkingRule()),
            Variables = Inputs.Empty,
        };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => validator.ValidateAsync(options));
        Assert.Contains(nameof(WalkingRule), error.Message);
    }

    private sealed class WalkingRule : ValidationRuleBase
    {
        public override ValueTask<INodeVisitor?> GetPreNodeVisitorAsync(ValidationContext context) =>
            new(new MatchingNodeVisitor<GraphQLField>((_, _) => { }));
    }

    [Fact]
    public async Task A_costly_subscription_selection_is_refused_by_its_own_limit()
    {
        // the same selection is a cheap query; as a subscription it would be built again for every event
        var selection = "id trace { steps(first: 100) { events(first: 100) { id } } }";
        var query = await api.PostAsync($"{{ events(first: 1) {{ nodes {{ {selection} }} }} }}");
        Assert.Empty(query.ErrorCodes);
        var subscription = await api.PostAsync($"subscription {{ workflowEvents {{ {selection} }} }}");
        Assert.Equal(HttpStatusCode.BadRequest, subscription.Status);
        Assert.Contains("MAX_COMPLEXITY_EXCEEDED", subscription.ErrorCodes);
    }
}
