using System.Net.WebSockets;
using System.Text.Json;
using WorkflowGraph.Auth;
using WorkflowGraph.Development;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Auth;
using WorkflowGraph.Tests.Infrastructure;
using WorkflowGraph.Transport.WebSockets;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>A server with short protocol timers, so the tests of them take a second, not the defaults' 10–15.</summary>
public sealed class ProtocolServer : GraphQLWsServer
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["GraphQL:ConnectionInitTimeoutSeconds"] = "1",
        ["GraphQL:KeepAliveSeconds"] = "0.5",
        ["GraphQL:MaxRequestBytes"] = "16384",
        // a connection lasts until its token's expiry plus the clock skew: none here, so expiry shows at once
        ["Auth:ClockSkewSeconds"] = "0",
    };
}

/// <summary>graphql-transport-ws as the graphql-ws library's PROTOCOL.md states it: the handshake, the close codes and
/// single-result operations (queries and mutations) over the socket.</summary>
public sealed class WebSocketProtocolTests(ProtocolServer server) : IClassFixture<ProtocolServer>
{
    private const string TraceCount = "{ traces { totalCount } }";

    [Fact]
    public async Task Init_with_a_valid_token_is_acknowledged_on_the_graphql_transport_ws_subprotocol()
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        Assert.Equal(GraphQLWsTestClient.SubProtocol, client.AcceptedSubProtocol);
        await client.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
        var ack = await client.ExpectAckAsync();
        Assert.False(ack.TryGetProperty("id", out _));
    }

    public static TheoryData<string> PayloadShapes => new()
    {
        """{"Authorization": "%"}""",
        """{"authorization": "%"}""",
        """{"headers": {"Authorization": "%"}}""",
        """{"Headers": {"authorization": "%"}, "content-type": "application/json"}""",
    };

    [Theory]
    [MemberData(nameof(PayloadShapes))]
    public async Task The_token_is_found_whatever_the_case_of_its_key_and_inside_headers(string payload)
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.SendTextAsync($$"""{"type":"connection_init","payload":{{payload.Replace("%", GraphQLWsServer.Bearer())}}}""");
        await client.ExpectAckAsync();
    }

    public static TheoryData<string, string> RefusedInits => new()
    {
        { """{"type":"connection_init"}""", "Authentication required" },
        { """{"type":"connection_init","payload":{}}""", "Authentication required" },
        { """{"type":"connection_init","payload":{"Authorization":"Bearer not-a-jwt"}}""", "not a well-formed JWT" },
        { """{"type":"connection_init","payload":{"Authorization":"Basic dXNlcjpwYXNz"}}""", "not 'Bearer <JWT>'" },
        { Init("Bearer " + ExpiredToken()), "expired" },
        { Init("Bearer " + ForeignToken()), "signature" },
    };

    [Theory]
    [MemberData(nameof(RefusedInits))]
    public async Task A_missing_or_refused_token_closes_with_4403(string init, string why)
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.SendTextAsync(init);
        var reason = await client.ExpectCloseAsync(4403);
        Assert.StartsWith("Forbidden", reason);
        Assert.Contains(why, reason);
    }

    [Fact]
    public async Task No_init_within_the_timeout_closes_with_4408()
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        var started = DateTime.UtcNow;
        Assert.Equal("Connection initialisation timeout", await client.ExpectCloseAsync(4408));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task A_second_init_closes_with_4429()
    {
        await using var client = await server.ConnectAsync();
        await client.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
        Assert.Equal("Too many initialisation requests", await client.ExpectCloseAsync(4429));
    }

    [Fact]
    public async Task Subscribe_before_the_ack_closes_with_4401()
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri);
        await client.SubscribeAsync("1", TraceCount);
        Assert.Equal("Unauthorized", await client.ExpectCloseAsync(4401));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "not json", "not JSON" },
        { "[1, 2]", "not a JSON object" },
        { """{"id":"1"}""", "no string 'type'" },
        { """{"type":42}""", "no string 'type'" },
        { """{"type":"start","id":"1","payload":{"query":"{ __typename }"}}""", "unknown type 'start'" },
        { """{"type":"subscribe","payload":{"query":"{ __typename }"}}""", "'subscribe' needs a non-empty string 'id'" },
        { """{"type":"subscribe","id":"","payload":{"query":"{ __typename }"}}""", "'subscribe' needs a non-empty string 'id'" },
        { """{"type":"subscribe","id":"1"}""", "'subscribe' needs an object 'payload'" },
        { """{"type":"subscribe","id":"1","payload":{"variables":{}}}""", "needs a string 'query'" },
        {
            """{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":[1]}}""",
            "'variables' must be an object or null"
        },
        { """{"type":"complete"}""", "'complete' needs a non-empty string 'id'" },
        { """{"type":"ping","payload":"hello"}""", "'ping' payload must be an object" },
        { """{"type":"next","id":"1","payload":{}}""", "'next' is sent by servers" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_message_closes_with_4400_and_says_why(string message, string why)
    {
        await using var client = await server.ConnectAsync();
        await client.SendTextAsync(message);
        Assert.Contains(why, await client.ExpectCloseAsync(4400));
    }

    [Fact]
    public async Task A_message_above_MaxRequestBytes_closes_with_1009()
    {
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("big", "{ traces { totalCount } }" + new string(' ', 20_000));
        await client.ExpectCloseAsync((int)WebSocketCloseStatus.MessageTooBig);
    }

    [Theory]
    [InlineData("graphql-ws")]
    [InlineData(null)]
    public async Task Without_the_subprotocol_the_socket_closes_with_4406(string? offered)
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri, offered is null ? [] : [offered]);
        Assert.Null(client.AcceptedSubProtocol);
        Assert.Equal("Subprotocol not acceptable", await client.ExpectCloseAsync(4406));
    }

    [Fact]
    public async Task A_request_that_is_not_an_upgrade_still_reaches_the_http_endpoint()
    {
        var body = await server.PostAsync(TraceCount);
        Assert.Equal(40, body.GetProperty("data").GetProperty("traces").GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task Ping_is_answered_with_pong_echoing_its_payload()
    {
        await using var client = await server.ConnectAsync();
        await client.PingAsync(new { sent = 42 });
        var pong = await client.ConnectionMessageAsync();
        Assert.Equal("pong", GraphQLWsTestClient.Type(pong));
        Assert.Equal(42, pong.GetProperty("payload").GetProperty("sent").GetInt32());

        await client.PingAsync();
        pong = await client.ConnectionMessageAsync();
        Assert.Equal("pong", GraphQLWsTestClient.Type(pong));
        Assert.False(pong.TryGetProperty("payload", out var payload) && payload.ValueKind != JsonValueKind.Null);

        // an unsolicited pong is allowed (a one-way heartbeat)
        await client.SendAsync(new { type = "pong" });
        await client.PingAsync();
        Assert.Equal("pong", GraphQLWsTestClient.Type(await client.ConnectionMessageAsync()));
    }

    [Fact]
    public async Task The_server_pings_every_KeepAliveSeconds_and_a_client_that_answers_stays_connected()
    {
        await using var client = await server.ConnectAsync();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (client.PingsReceived < 2 && watch.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(50);
        Assert.True(client.PingsReceived >= 2, $"{client.PingsReceived} pings in {watch.Elapsed}");
        // not before the intervals passed (allowing for timer jitter)
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(0.8), $"two pings after {watch.Elapsed}");
        Assert.False(client.IsClosed);
        await client.SubscribeAsync("q", TraceCount);
        await client.NextAsync("q");
    }

    [Fact]
    public async Task A_client_that_reads_nothing_for_several_keep_alive_intervals_is_not_dropped()
    {
        // a paused client (or a busy server) answers no ping frame for six intervals, but for less than the minimum wait
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri, startReading: false);
        await client.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
        await Task.Delay(TimeSpan.FromSeconds(3));
        client.StartReading();
        await client.ExpectAckAsync();
        await client.SubscribeAsync("q", TraceCount);
        await client.NextAsync("q");
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task A_peer_that_answers_no_ping_frame_is_dropped_after_the_minimum_wait()
    {
        await using var client = await GraphQLWsTestClient.ConnectAsync(server.WebSocketUri, startReading: false);
        await client.InitAsync(new { Authorization = GraphQLWsServer.Bearer() });
        // dropped ~10.5 s in (the first ping frame at 0.5 s, then the wait): read well after, for a late timer
        await Task.Delay(GraphQLWebSocketMiddleware.MinPeerTimeout + TimeSpan.FromSeconds(6));
        client.StartReading();
        await client.ClosedAsync();
        // dropped, not closed: a peer that answers nothing would not answer a close frame either
        Assert.Null(client.CloseStatus);
        Assert.NotNull(client.ReadFailure);
    }

    [Fact]
    public async Task A_query_answers_next_then_complete_with_the_tokens_tenant_rows_only()
    {
        await using var orgA = await server.ConnectAsync(GraphApiFixture.OrgA, TenantRole.Viewer);
        await using var orgB = await server.ConnectAsync(GraphApiFixture.OrgB, TenantRole.Viewer);
        await orgA.SubscribeAsync("q", """
            query Count($status: TraceStatus!) { traces(where: { status: { eq: $status } }) { totalCount nodes { rowId } } }
            """, new { status = "FAILED" });
        await orgB.SubscribeAsync("q", TraceCount);

        var a = (await orgA.NextAsync("q")).GetProperty("data").GetProperty("traces");
        await orgA.CompletedAsync("q");
        var b = (await orgB.NextAsync("q")).GetProperty("data").GetProperty("traces");
        await orgB.CompletedAsync("q");

        Assert.Equal(8, a.GetProperty("totalCount").GetInt32());
        Assert.All(a.GetProperty("nodes").EnumerateArray(), trace => Assert.InRange(trace.GetProperty("rowId").GetInt64(), 1, 40));
        Assert.Equal(12, b.GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task An_id_is_free_again_once_its_operation_completed()
    {
        await using var client = await server.ConnectAsync();
        for (var round = 0; round < 3; round++)
        {
            await client.SubscribeAsync("same", TraceCount);
            await client.NextAsync("same");
            await client.CompletedAsync("same");
        }
    }

    [Fact]
    public async Task Operations_on_one_socket_run_side_by_side()
    {
        await using var client = await server.ConnectAsync();
        var ids = Enumerable.Range(1, 10).Select(i => $"op{i}").ToList();
        foreach (var id in ids)
            await client.SubscribeAsync(id, "query ($id: ID!) { trace(id: $id) { rowId } }",
                new { id = Ids.Trace(int.Parse(id[2..])) });
        foreach (var id in ids)
        {
            Assert.Equal(int.Parse(id[2..]),
                (await client.NextAsync(id)).GetProperty("data").GetProperty("trace").GetProperty("rowId").GetInt32());
            await client.CompletedAsync(id);
        }
    }

    private const string SetContext = """
        mutation ($value: JSON) {
          setWorkflowContext(input: { traceId: "V29ya2Zsb3dUcmFjZToz", key: "ws-test", value: $value }) {
            entry { key value }
            errors { __typename ... on Error { message } }
          }
        }
        """;

    [Fact]
    public async Task A_mutation_runs_and_commits_for_an_operator_and_is_forbidden_for_a_viewer()
    {
        await using (var viewer = await server.ConnectAsync(role: TenantRole.Viewer))
        {
            await viewer.SubscribeAsync("m", SetContext, new { value = new { by = "viewer" } });
            var refused = await viewer.NextAsync("m");
            Assert.Contains("FORBIDDEN", GraphQLErrors.Codes(refused));
            await viewer.CompletedAsync("m");
        }

        await using var operatorClient = await server.ConnectAsync(role: TenantRole.Operator);
        await operatorClient.SubscribeAsync("m", SetContext, new { value = new { by = "operator" } });
        var payload = await operatorClient.NextAsync("m");
        await operatorClient.CompletedAsync("m");
        var result = payload.GetProperty("data").GetProperty("setWorkflowContext");
        Assert.True(result.GetProperty("errors").ValueKind == JsonValueKind.Null, payload.ToString());
        Assert.Equal("operator", result.GetProperty("entry").GetProperty("value").GetProperty("by").GetString());

        // committed: another connection reads it
        await using var reader = await server.ConnectAsync(role: TenantRole.Viewer);
        await reader.SubscribeAsync("r", """{ workflowContext(traceId: "V29ya2Zsb3dUcmFjZToz", key: "ws-test") { value } }""");
        var entries = (await reader.NextAsync("r")).GetProperty("data").GetProperty("workflowContext");
        Assert.Equal("operator", entries[0].GetProperty("value").GetProperty("by").GetString());
    }

    [Theory]
    [InlineData("{ traces { noSuchField } }", "FIELDS_ON_CORRECT_TYPE")]
    [InlineData("{ traces { ", "SYNTAX_ERROR")]
    [InlineData("query ($n: Int!) { traces(first: $n) { totalCount } }", "INVALID_VALUE")]
    public async Task A_request_that_does_not_validate_answers_error_and_nothing_else(string query, string code)
    {
        await using var client = await server.ConnectAsync();
        await client.SubscribeAsync("bad", query);
        var errors = await client.ErrorAsync("bad");
        Assert.Contains(code, GraphQLErrors.Codes(errors));
        await client.NothingForAsync("bad", TimeSpan.FromMilliseconds(200));
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task The_connection_closes_with_4403_when_its_token_expires()
    {
        var shortLived = DevelopmentTokens.Create(TestTokens.Key, GraphApiFixture.OrgA, GraphApiFixture.UserA, TenantRole.Viewer,
            TimeSpan.FromSeconds(2));
        await using var client = await GraphQLWsTestClient.ConnectAndInitAsync(server.WebSocketUri, "Bearer " + shortLived);
        await client.SubscribeAsync("q", TraceCount);
        await client.NextAsync("q");
        Assert.Equal("Forbidden: token expired", await client.ExpectCloseAsync(4403));
    }

    private static string Init(string authorization) =>
        JsonSerializer.Serialize(new { type = "connection_init", payload = new { Authorization = authorization } });

    private static string ExpiredToken() => DevelopmentTokens.Create(TestTokens.Key, GraphApiFixture.OrgA, GraphApiFixture.UserA,
        TenantRole.Admin, TimeSpan.FromMinutes(5), issuedAt: DateTime.UtcNow.AddHours(-1));

    private static string ForeignToken() => DevelopmentTokens.Create(TokenSettings.KeyFrom(new string('x', 48)), GraphApiFixture.OrgA,
        GraphApiFixture.UserA, TenantRole.Admin, TimeSpan.FromMinutes(5));
}
