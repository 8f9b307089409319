namespace WorkflowGraph.Tests.Api;

/// <summary>
/// The introspection query graphql-js 16 writes with every option on (descriptions, specifiedByUrl,
/// directiveIsRepeatable, schemaDescription, inputValueDeprecation): what Apollo, urql, Relay's and graphql-codegen's
/// tooling send. GraphQL.NET 8.8.5 lacks <c>__Type.specifiedByURL</c> and <c>includeDeprecated</c> on directive
/// arguments; the served schema adds them (SchemaBinding/ServedSchema).
/// </summary>
public sealed class IntrospectionTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Query = """
        query IntrospectionQuery {
          __schema {
            description
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description specifiedByURL
          fields(includeDeprecated: true) {
            name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
          }
          inputFields(includeDeprecated: true) { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue {
          name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
        }
        fragment TypeRef on __Type {
          kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
            ofType { kind name ofType { kind name } } } } } } }
        }
        """;

    [Fact]
    public async Task Graphql_js_full_introspection_answers_every_field_it_asks_for()
    {
        var response = await api.PostAsync(Query);

        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        var schema = response.Data.GetProperty("__schema");
        var node = schema.GetProperty("types").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "Node");
        Assert.Equal("INTERFACE", node.GetProperty("kind").GetString());
        Assert.Contains(node.GetProperty("possibleTypes").EnumerateArray(), t => t.GetProperty("name").GetString() == "WorkflowTrace");
        var skip = schema.GetProperty("directives").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "skip");
        Assert.False(skip.GetProperty("isRepeatable").GetBoolean());
        var where = schema.GetProperty("types").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "WorkflowTraceFilterInput").GetProperty("inputFields");
        Assert.Contains(where.EnumerateArray(), f => f.GetProperty("name").GetString() == "rowId");
        Assert.All(where.EnumerateArray(), f => Assert.False(f.GetProperty("isDeprecated").GetBoolean()));
        string? SpecifiedBy(string name) => schema.GetProperty("types").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == name).GetProperty("specifiedByURL").GetString();
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc9562", SpecifiedBy("UUID"));
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc3339", SpecifiedBy("DateTime"));
        Assert.Null(SpecifiedBy("Long"));
        Assert.Null(SpecifiedBy("WorkflowTrace"));
        var specifiedBy = schema.GetProperty("directives").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "specifiedBy");
        Assert.Equal("url", Assert.Single(specifiedBy.GetProperty("args").EnumerateArray()).GetProperty("name").GetString());
    }
}
