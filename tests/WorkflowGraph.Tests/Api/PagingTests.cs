using System.Text.Json;
using WorkflowGraph.Tests.Database;

namespace WorkflowGraph.Tests.Api;

/// <summary>Keyset paging forwards and backwards returns every row exactly once, in the order SQL gives.</summary>
public sealed class PagingTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    public static readonly TheoryData<string, string> Orders = new()
    {
        // default: newest first; pairs of runs share a start time, so the id decides
        { "", "start_time DESC, id DESC" },
        { "[{ startTime: ASC }]", "start_time ASC, id ASC" },
        { "[{ endTime: DESC }]", "end_time DESC NULLS LAST, id DESC" },
        { "[{ externalId: ASC }]", "external_id ASC NULLS LAST, id ASC" },
        { "[{ channel: ASC }, { startTime: DESC }]", "channel ASC, start_time DESC, id DESC" },
        { "[{ status: DESC }, { durationMs: ASC }]", "status DESC, duration_ms ASC NULLS LAST, id ASC" },
        { "[{ workflow: { name: ASC } }, { startTime: ASC }]",
          "(SELECT w.name FROM workflows w WHERE w.id = t.workflow_id) ASC NULLS LAST, start_time ASC, id ASC" },
    };

    private async Task<List<long>> ExpectedAsync(string orderBy, string condition = "TRUE")
    {
        await using var conn = await api.Database.DataSource.OpenConnectionAsync();
        var rows = await conn.RowsAsync(
            $"SELECT id FROM workflow_trace t WHERE org_id = $1 AND {condition} ORDER BY {orderBy}", GraphApiFixture.OrgA);
        return rows.Select(r => (long)r["id"]!).ToList();
    }

    private async Task<(List<long> Ids, JsonElement PageInfo)> PageAsync(string arguments)
    {
        var response = await api.PostAsync($$"""
            { traces({{arguments}}) {
                totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { rowId } } } }
            """);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        Assert.Single(response.Statements);
        var traces = response.Data.GetProperty("traces");
        var edges = traces.GetProperty("edges").EnumerateArray().ToList();
        var pageInfo = traces.GetProperty("pageInfo");
        if (edges.Count > 0)
        {
            Assert.Equal(edges[0].GetProperty("cursor").GetString(), pageInfo.GetProperty("startCursor").GetString());
            Assert.Equal(edges[^1].GetProperty("cursor").GetString(), pageInfo.GetProperty("endCursor").GetString());
        }
        return (edges.Select(e => e.GetProperty("node").GetProperty("rowId").GetInt64()).ToList(), pageInfo);
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task Forward_paging_visits_every_row_once_in_order(string order, string orderBy)
    {
        var orderArgument = order == "" ? "" : $", order: {order}";
        var seen = new List<long>();
        string? after = null;
        for (var pages = 0; pages < 20; pages++)
        {
            var (ids, pageInfo) = await PageAsync($"first: 7{orderArgument}" + (after is null ? "" : $", after: \"{after}\""));
            seen.AddRange(ids);
            Assert.Equal(after is not null, pageInfo.GetProperty("hasPreviousPage").GetBoolean());
            if (!pageInfo.GetProperty("hasNextPage").GetBoolean())
                break;
            after = pageInfo.GetProperty("endCursor").GetString();
        }
        Assert.Equal(await ExpectedAsync(orderBy), seen);
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task Backward_paging_visits_every_row_once_in_order(string order, string orderBy)
    {
        var orderArgument = order == "" ? "" : $", order: {order}";
        var pagesSeen = new List<List<long>>();
        string? before = null;
        for (var pages = 0; pages < 20; pages++)
        {
            var (ids, pageInfo) = await PageAsync($"last: 6{orderArgument}" + (before is null ? "" : $", before: \"{before}\""));
            pagesSeen.Insert(0, ids);
            Assert.Equal(before is not null, pageInfo.GetProperty("hasNextPage").GetBoolean());
            if (!pageInfo.GetProperty("hasPreviousPage").GetBoolean())
                break;
            before = pageInfo.GetProperty("startCursor").GetString();
        }
        Assert.Equal(await ExpectedAsync(orderBy), pagesSeen.SelectMany(p => p).ToList());
    }

    [Fact]
    public async Task Paging_with_a_filter_and_the_total_count()
    {
        var expected = await ExpectedAsync("start_time DESC, id DESC", "status IN ('completed', 'failed')");
        var (firstPage, pageInfo) = await PageAsync("first: 10, where: { status: { in: [COMPLETED, FAILED] } }");
        var endCursor = pageInfo.GetProperty("endCursor").GetString();
        var (secondPage, _) = await PageAsync($"first: 10, where: {{ status: {{ in: [COMPLETED, FAILED] }} }}, after: \"{endCursor}\"");
        Assert.Equal(expected.Take(20), firstPage.Concat(secondPage));

        var response = await api.PostAsync("{ traces(first: 1, where: { status: { in: [COMPLETED, FAILED] } }) { totalCount } }");
        Assert.Equal(expected.Count, response.Data.GetProperty("traces").GetProperty("totalCount").GetInt32());
        // a cursor-less count reads no page at all
        Assert.DoesNotContain("LIMIT", Assert.Single(response.Statements));
    }

    [Fact]
    public async Task An_empty_page_still_reports_the_total_and_no_cursors()
    {
        var response = await api.PostAsync("""
            { traces(where: { rowId: { gt: 1000 } }) {
                totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
            """);
        var traces = response.Data.GetProperty("traces");
        Assert.Equal(0, traces.GetProperty("totalCount").GetInt32());
        Assert.Equal(0, traces.GetProperty("nodes").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, traces.GetProperty("pageInfo").GetProperty("endCursor").ValueKind);
        Assert.False(traces.GetProperty("pageInfo").GetProperty("hasNextPage").GetBoolean());
    }

    [Fact]
    public async Task A_reused_document_takes_each_requests_variables()
    {
        const string query = """
            query ($n: Int, $status: TraceStatus) { traces(first: $n, where: { status: { eq: $status } }) { nodes { id status } } }
            """;
        var three = await api.PostAsync(query, new { n = 3, status = "FAILED" });
        var two = await api.PostAsync(query, new { n = 2, status = "ACTIVE" });
        var tooMany = await api.PostAsync(query, new { n = 101, status = "ACTIVE" });

        Assert.Equal(3, three.Data.GetProperty("traces").GetProperty("nodes").GetArrayLength());
        Assert.All(three.Data.GetProperty("traces").GetProperty("nodes").EnumerateArray(),
            n => Assert.Equal("FAILED", n.GetProperty("status").GetString()));
        Assert.Equal(2, two.Data.GetProperty("traces").GetProperty("nodes").GetArrayLength());
        Assert.All(two.Data.GetProperty("traces").GetProperty("nodes").EnumerateArray(),
            n => Assert.Equal("ACTIVE", n.GetProperty("status").GetString()));
        Assert.Contains("PAGE_SIZE_EXCEEDED", tooMany.ErrorCodes);
        Assert.Empty(tooMany.Statements);
    }

    [Fact]
    public async Task The_default_page_is_20_rows()
    {
        var response = await api.PostAsync("{ traces { nodes { id } pageInfo { hasNextPage } } }");
        Assert.Equal(20, response.Data.GetProperty("traces").GetProperty("nodes").GetArrayLength());
        Assert.True(response.Data.GetProperty("traces").GetProperty("pageInfo").GetProperty("hasNextPage").GetBoolean());
    }

    public static readonly TheoryData<string, string> BadPaging = new()
    {
        { "first: 101", "PAGE_SIZE_EXCEEDED" },
        { "last: 500", "PAGE_SIZE_EXCEEDED" },
        { "first: -1", "INVALID_PAGING_ARGUMENTS" },
        { "first: 2, last: 2", "INVALID_PAGING_ARGUMENTS" },
        { "first: 2, before: \"eyJ9\"", "INVALID_PAGING_ARGUMENTS" },
        { "after: \"not a cursor\"", "INVALID_CURSOR" },
        { "after: \"eyJvIjoieCIsInYiOltdfQ\"", "INVALID_CURSOR" },
        { "after: \"\"", "INVALID_CURSOR" },
    };

    [Theory]
    [MemberData(nameof(BadPaging))]
    public async Task Bad_paging_arguments_get_a_coded_error_and_no_sql(string arguments, string code)
    {
        var response = await api.PostAsync($"{{ traces({arguments}) {{ nodes {{ id }} }} }}");
        Assert.Contains(code, response.ErrorCodes);
        Assert.Empty(response.Statements);
    }

    [Fact]
    public async Task A_cursor_only_works_with_the_order_it_was_made_in()
    {
        var (_, pageInfo) = await PageAsync("first: 2, order: [{ startTime: ASC }]");
        var cursor = pageInfo.GetProperty("endCursor").GetString();
        var response = await api.PostAsync($"{{ traces(first: 2, after: \"{cursor}\") {{ nodes {{ id }} }} }}");
        Assert.Contains("INVALID_CURSOR", response.ErrorCodes);
        Assert.Empty(response.Statements);
    }
}
