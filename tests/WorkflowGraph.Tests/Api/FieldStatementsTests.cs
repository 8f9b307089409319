using System.Text.Json;
using GraphQL;
using GraphQLParser.AST;
using Microsoft.Extensions.DependencyInjection;
using WorkflowGraph.Querying;
using WorkflowGraph.SchemaBinding;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Api;

/// <summary>
/// A root field's statement is kept with its cached document (<see cref="FieldStatements{T}"/>): a document sent again
/// must answer each request's own variables, key and scope, never the request the statement was first written for.
/// (The other direction of the scope — written unmasked, then read masked — is
/// <c>PhiMaskingTests.A_statement_written_for_one_scope_fails_closed_in_a_transaction_of_the_other</c>.)
/// </summary>
public sealed class FieldStatementsTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private static IEnumerable<JsonElement> Items(JsonElement list) => list.EnumerateArray();

    [Fact]
    public async Task A_by_key_document_sent_again_answers_each_requests_key_with_the_same_statement()
    {
        const string query = "query ($id: ID!) { trace(id: $id) { id rowId steps { id traceId } } }";
        var texts = new HashSet<string>();
        foreach (var run in new long[] { 19, 21, 7, 19 }) // runs with steps
        {
            var response = await api.PostAsync(query, new { id = Ids.Trace(run) });
            Assert.Empty(response.ErrorCodes);
            var trace = response.Data.GetProperty("trace");
            Assert.Equal(run, trace.GetProperty("rowId").GetInt64());
            Assert.NotEmpty(Items(trace.GetProperty("steps")));
            Assert.All(Items(trace.GetProperty("steps")), step => Assert.Equal(Ids.Trace(run), step.GetProperty("traceId").GetString()));
            texts.Add(Assert.Single(response.Statements));
        }
        Assert.Single(texts);
    }

    [Fact]
    public async Task A_key_variable_the_selection_uses_again_is_each_requests_own_there_too()
    {
        const string query = """
            query ($id: ID!) { trace(id: $id) { rowId events(where: { traceId: { eq: $id } }) { traceId } } }
            """;
        foreach (var run in new long[] { 21, 22 })
        {
            var response = await api.PostAsync(query, new { id = Ids.Trace(run) });
            Assert.Empty(response.ErrorCodes);
            var events = Items(response.Data.GetProperty("trace").GetProperty("events")).ToList();
            Assert.NotEmpty(events);
            Assert.All(events, e => Assert.Equal(Ids.Trace(run), e.GetProperty("traceId").GetString()));
        }
    }

    [Fact]
    public async Task A_connection_document_sent_again_answers_each_requests_variables()
    {
        const string query = """
            query ($n: Int, $status: TraceStatus) { traces(first: $n, where: { status: { eq: $status } }) { nodes { status } } }
            """;
        foreach (var (n, status) in new[] { (1, "COMPLETED"), (3, "COMPLETED"), (2, "FAILED"), (1, "COMPLETED") })
        {
            var response = await api.PostAsync(query, new { n, status });
            Assert.Empty(response.ErrorCodes);
            var nodes = Items(response.Data.GetProperty("traces").GetProperty("nodes")).ToList();
            Assert.Equal(n, nodes.Count);
            Assert.All(nodes, node => Assert.Equal(status, node.GetProperty("status").GetString()));
        }
        // a variable not given is not the same request as one given as null (eq: null is a condition): each its own variant
        var literal = await api.PostAsync("{ traces(first: 2, where: { status: { eq: null } }) { nodes { status } } }");
        foreach (var _ in new[] { 1, 2 })
        {
            var unset = await api.PostAsync(query, new { n = 2 });
            Assert.Equal(2, Items(unset.Data.GetProperty("traces").GetProperty("nodes")).Count());
            var nulled = await api.PostAsync(query, new { n = 2, status = (string?)null });
            Assert.Equal(literal.Data.GetProperty("traces").GetRawText(), nulled.Data.GetProperty("traces").GetRawText());
        }
    }

    [Fact]
    public void Variable_uses_are_counted_in_each_fields_subtree_through_its_fragments_but_not_their_definitions()
    {
        var document = GraphQLParser.Parser.Parse("""
            query ($id: ID!, $other: ID = "x", $unused: Int, $with: Boolean!) {
              trace(id: $id) { ...F ...F } workflow(id: $other) @include(if: $with) { id } }
            fragment F on WorkflowTrace { events(where: { traceId: { in: [$id] } }) { id } steps @include(if: $with) { id } }
            """);
        var fields = document.Definitions.OfType<GraphQLOperationDefinition>().Single().SelectionSet.Selections
            .OfType<GraphQLField>().ToList();
        var trace = FieldStatements.VariableUses(fields[0], document);
        Assert.Equal(3, trace["id"]); // its argument, and the fragment's condition spread twice
        Assert.Equal(2, trace["with"]);
        Assert.False(trace.ContainsKey("other"));
        Assert.False(trace.ContainsKey("unused"));
        var workflow = FieldStatements.VariableUses(fields[1], document);
        Assert.Equal(new[] { "other", "with" }, workflow.Keys.Order());

        // a spread of a fragment the document does not define (validation refuses it first) makes every variable the field's
        var unknown = GraphQLParser.Parser.Parse("query ($a: Int, $b: Int) { traces(first: $a) { ...G } workflows(first: $b) { id } }");
        var traces = unknown.Definitions.OfType<GraphQLOperationDefinition>().Single().SelectionSet.Selections
            .OfType<GraphQLField>().First();
        Assert.Equal(new[] { "a", "b" }, FieldStatements.VariableUses(traces, unknown).Keys.Order());
    }

    [Fact]
    public async Task A_root_field_finds_its_statement_kept_while_another_root_fields_variable_changes()
    {
        var model = api.Services.GetRequiredService<GraphModel>();
        const string query = """
            query ($n: Int, $status: TraceStatus, $id: ID!) {
              traces(first: $n, where: { status: { eq: $status } }) { nodes { ...Run } }
              trace(id: $id) { rowId }
            }
            fragment Run on WorkflowTrace { status }
            """;
        var before = model.Connections.KeptStatementsUsed;
        foreach (var (run, n, status) in new[] { (19L, 2, "COMPLETED"), (21L, 2, "COMPLETED"), (7L, 2, "COMPLETED"), (7L, 1, "FAILED") })
        {
            var response = await api.PostAsync(query, new { n, status, id = Ids.Trace(run) });
            Assert.Empty(response.ErrorCodes);
            Assert.Equal(run, response.Data.GetProperty("trace").GetProperty("rowId").GetInt64());
            var nodes = Items(response.Data.GetProperty("traces").GetProperty("nodes")).ToList();
            Assert.Equal(n, nodes.Count);
            Assert.All(nodes, node => Assert.Equal(status, node.GetProperty("status").GetString()));
        }
        // the connection's variables were the same in the first three requests: written once, then found twice
        Assert.Equal(2, model.Connections.KeptStatementsUsed - before);
    }

    [Fact]
    public async Task A_root_field_repeated_under_one_response_key_answers_the_variables_of_every_repetition()
    {
        // the engine merges the two into one field: the second one's directive variable is the merged field's too
        const string query = """
            query ($with: Boolean!) { traces(first: 1) { nodes { id } } traces(first: 1) { nodes { status @include(if: $with) } } }
            """;
        foreach (var with in new[] { true, false, true, false })
        {
            var response = await api.PostAsync(query, new { with });
            Assert.Empty(response.ErrorCodes);
            var node = Assert.Single(Items(response.Data.GetProperty("traces").GetProperty("nodes")));
            Assert.True(node.TryGetProperty("id", out _));
            Assert.Equal(with, node.TryGetProperty("status", out _));
        }
    }

    [Fact]
    public async Task A_variable_used_only_in_a_fragment_of_the_field_is_part_of_its_variant()
    {
        const string query = """
            query ($status: StepStatus) { traces(first: 3, where: { status: { eq: COMPLETED } }) { nodes { ...Steps } } }
            fragment Steps on WorkflowTrace { steps(where: { status: { eq: $status } }) { status } }
            """;
        foreach (var status in new[] { "COMPLETED", "FAILED", "COMPLETED", "FAILED" })
        {
            var response = await api.PostAsync(query, new { status });
            Assert.Empty(response.ErrorCodes);
            var steps = Items(response.Data.GetProperty("traces").GetProperty("nodes"))
                .SelectMany(node => Items(node.GetProperty("steps"))).ToList();
            Assert.All(steps, step => Assert.Equal(status, step.GetProperty("status").GetString()));
            if (status == "COMPLETED")
                Assert.NotEmpty(steps);
        }
    }

    [Fact]
    public void Different_variable_values_are_different_variants()
    {
        var values = new object?[]
        {
            null, "", "1", 1, 1.5, true, "true", "a\u001eb=s1:c", new[] { "1" }, new List<object?> { 1 },
            new Dictionary<string, object?> { ["a"] = "1" }, new Dictionary<string, object?> { ["a"] = 1 },
            new Dictionary<string, object?> { ["a"] = null }, new Dictionary<string, object?>(),
            new Dictionary<string, object?> { ["a"] = "1", ["b"] = "2" }, Guid.Empty, new DateTimeOffset(2026, 1, 1, 0, 0, 0, default),
        };
        var variants = values.Select(value => Variant(("v", value, true))).ToList();
        Assert.All(variants, Assert.NotNull);
        Assert.Equal(variants.Count, variants.Distinct().Count());
        // not given differs from given as null; the scope is part of the variant; map order is not
        Assert.NotEqual(Variant(("v", null, false)), Variant(("v", null, true)));
        Assert.NotEqual(Variant(("v", 1, true)), Variant(("v", 1, true), phiRead: true));
        Assert.Equal(Variant(("v", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, true)),
            Variant(("v", new Dictionary<string, object?> { ["b"] = 2, ["a"] = 1 }, true)));
        // the key argument's variable is left out when the field uses it once; a value the key cannot write makes no
        // variant, nor does a document that is not kept
        var keyed = GraphQLParser.Parser.Parse("query ($w: Int, $id: ID!) { trace(id: $id) { steps(first: $w) { id } } }");
        Assert.Equal(Variant(("w", 1, true)), Variant([("w", 1, true), ("id", "a", true)], keyArgument: "id", document: keyed));
        Assert.Null(Variant(("v", new object(), true)));
        Assert.Null(FieldStatements.Variant(new ResolveFieldContext { UserContext = new Dictionary<string, object?>() }, false));
    }

    [Fact]
    public void A_field_keeps_at_most_its_bound_of_variants()
    {
        var statements = new FieldStatements<string>();
        var context = Kept(new GraphQLField(new GraphQLName("trace")));
        for (var i = 0; i < FieldStatements<string>.MaxVariants; i++)
            statements.Add(context, $"v{i}", $"s{i}", 2);
        Assert.All(Enumerable.Range(0, FieldStatements<string>.MaxVariants),
            i => Assert.True(statements.TryGet(context, $"v{i}", out _)));
        statements.Add(context, "one more", "s", 1);
        Assert.True(statements.TryGet(context, "one more", out var kept));
        Assert.Equal("s", kept);
        Assert.False(statements.TryGet(context, "v0", out _));
        // another node of the same name is another field
        var other = Kept(new GraphQLField(new GraphQLName("trace")));
        Assert.False(statements.TryGet(other, "one more", out _));
    }

    [Fact]
    public void All_fields_together_keep_at_most_their_bound_of_statement_text()
    {
        var statements = new FieldStatements<string>(maxCachedChars: 1_000);
        var fields = Enumerable.Range(0, 10).Select(_ => Kept(new GraphQLField(new GraphQLName("traces")))).ToList();
        foreach (var field in fields.Take(5))
            statements.Add(field, "v", "statement", 200);
        Assert.All(fields.Take(5), field => Assert.True(statements.TryGet(field, "v", out _)));
        // the sixth goes past 1,000 characters: what was kept before is let go
        statements.Add(fields[5], "v", "statement", 200);
        Assert.True(statements.TryGet(fields[5], "v", out _));
        Assert.All(fields.Take(5), field => Assert.False(statements.TryGet(field, "v", out _)));
        // a statement larger than the whole bound is never kept
        statements.Add(fields[6], "v", "statement", 1_001);
        Assert.False(statements.TryGet(fields[6], "v", out _));
        Assert.True(statements.TryGet(fields[5], "v", out _));
    }

    [Fact]
    public void Only_the_statements_of_a_kept_document_are_kept()
    {
        var statements = new FieldStatements<string>();
        var field = new GraphQLField(new GraphQLName("traces"));
        statements.Add(new ResolveFieldContext { FieldAst = field, UserContext = new Dictionary<string, object?>() }, "v", "s", 10);
        Assert.False(statements.TryGet(Kept(field), "v", out _));
        statements.Add(Kept(field), "v", "s", 10);
        Assert.True(statements.TryGet(Kept(field), "v", out _));
        Assert.Equal(1, statements.Hits);
    }

    [Fact]
    public async Task A_document_sent_again_reuses_its_statements_and_still_answers_its_directives_variables()
    {
        var model = api.Services.GetRequiredService<GraphModel>();
        const string query = "query ($id: ID!, $with: Boolean!) { trace(id: $id) { rowId steps @include(if: $with) { id } } }";
        var before = model.Rows.KeptStatementsUsed;
        foreach (var (run, with) in new[] { (19L, true), (21L, true), (19L, false), (7L, false), (7L, true) })
        {
            var response = await api.PostAsync(query, new { id = Ids.Trace(run), with });
            Assert.Empty(response.ErrorCodes);
            var trace = response.Data.GetProperty("trace");
            Assert.Equal(run, trace.GetProperty("rowId").GetInt64());
            Assert.Equal(with, trace.TryGetProperty("steps", out _));
        }
        // the first request of each of the two variants writes its statement; the other three find it kept
        Assert.Equal(3, model.Rows.KeptStatementsUsed - before);

        // variables: a long list makes no variant, so it is not kept (and still answers)
        var connections = model.Connections.KeptStatementsUsed;
        var ids = Enumerable.Range(1, 600).Select(i => Ids.Trace(i)).ToArray();
        for (var i = 0; i < 2; i++)
        {
            var response = await api.PostAsync("query ($ids: [ID!]) { traces(where: { id: { in: $ids } }) { totalCount } }", new { ids });
            Assert.Equal(40, response.Data.GetProperty("traces").GetProperty("totalCount").GetInt32());
        }
        Assert.Equal(connections, model.Connections.KeptStatementsUsed);
    }

    [Fact]
    public async Task A_time_without_a_date_is_refused_as_it_would_mean_another_instant_each_day()
    {
        var response = await api.PostAsync("{ traces(where: { startTime: { gt: \"12:00\" } }) { totalCount } }");
        Assert.NotEmpty(response.ErrorCodes);
        Assert.Empty(response.Statements);
        var dated = await api.PostAsync("{ traces(where: { startTime: { gt: \"2026-01-10\" } }) { totalCount } }");
        Assert.Empty(dated.ErrorCodes);
    }

    private static ResolveFieldContext Kept(GraphQLField field) => new()
    {
        FieldAst = field,
        UserContext = new Dictionary<string, object?> { [FieldStatements.DocumentKeptKey] = true },
    };

    private static string? Variant((string Name, object? Value, bool Given) variable, bool phiRead = false) =>
        Variant([variable], phiRead);

    private static string? Variant((string Name, object? Value, bool Given)[] given, bool phiRead = false, string? keyArgument = null,
        GraphQLDocument? document = null)
    {
        var variables = new GraphQL.Validation.Variables();
        foreach (var (name, value, specified) in given)
        {
            var variable = new GraphQL.Validation.Variable(name, new GraphQLVariableDefinition(
                new GraphQLVariable(new GraphQLName(name)), new GraphQLNamedType(new GraphQLName("Int"))));
            if (specified)
                variable.Value = value;
            variables.Add(variable);
        }
        // without a document, a context with no field: every variable is the field's
        var context = Kept(document?.Definitions.OfType<GraphQLOperationDefinition>().Single().SelectionSet.Selections
            .OfType<GraphQLField>().First()!);
        context.Document = document!;
        context.Variables = variables;
        return FieldStatements.Variant(context, phiRead, keyArgument);
    }
}
