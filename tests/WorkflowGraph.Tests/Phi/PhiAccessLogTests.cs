using System.Text.Json;
using WorkflowGraph.Tenancy;
using WorkflowGraph.Tests.Api;
using WorkflowGraph.Tests.Infrastructure;

namespace WorkflowGraph.Tests.Phi;

/// <summary>
/// phiAccessLog: an organisation's admins read its PHI access records (filtered by time, user, operation and run), never
/// another organisation's; other roles are refused. Records come from real unmasked reads by users of the test's own.
/// </summary>
public sealed class PhiAccessLogTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    private const string Log = """
        query Log($where: PhiAccessRecordFilterInput, $first: Int) {
          phiAccessLog(where: $where, first: $first) {
            totalCount
            nodes { seq accessedAt userId role operationName documentHash fields runs { traceId } }
          }
        }
        """;

    private async Task ReadUnmaskedAsync(PhiWorld world, Guid user, string operation, Guid? org = null)
    {
        var response = await api.PostAsync($$"""query {{operation}} { trace(id: "{{Ids.Trace(world.TraceId)}}") { externalId } }""",
            org: org, role: TenantRole.Viewer, user: user, scope: "phi:read");
        Assert.Equal(world.ExternalId, response.Data.GetProperty("trace").GetProperty("externalId").GetString());
    }

    private async Task<JsonElement> LogAsync(object where, Guid? org = null, TenantRole role = TenantRole.Admin, int? first = null)
    {
        var response = await api.PostAsync(Log, new { where, first }, org: org, role: role);
        Assert.False(response.Body.TryGetProperty("errors", out var errors), errors.ToString());
        return response.Data.GetProperty("phiAccessLog");
    }

    [Fact]
    public async Task An_admin_reads_the_records_of_the_organisation_filtered_by_user_operation_run_and_time()
    {
        var first = await PhiWorld.CreateAsync(api);
        var second = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        await ReadUnmaskedAsync(first, user, "First");
        await ReadUnmaskedAsync(second, user, "Second");
        await ReadUnmaskedAsync(second, user, "Second");

        var all = await LogAsync(new { userId = new { eq = user } });
        Assert.Equal(3, all.GetProperty("totalCount").GetInt32());
        var newest = all.GetProperty("nodes")[0];
        Assert.Equal("Second", newest.GetProperty("operationName").GetString());
        Assert.Equal("viewer", newest.GetProperty("role").GetString());
        Assert.Equal(user.ToString(), newest.GetProperty("userId").GetString());
        Assert.Equal(["WorkflowTrace.externalId"], newest.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(Ids.Trace(second.TraceId), newest.GetProperty("runs")[0].GetProperty("traceId").GetString());
        Assert.DoesNotContain(second.ExternalId, all.GetRawText(), StringComparison.Ordinal);

        var byOperation = await LogAsync(new { userId = new { eq = user }, operationName = new { eq = "First" } });
        Assert.Equal(1, byOperation.GetProperty("totalCount").GetInt32());
        var byRun = await LogAsync(new { runs = new { some = new { traceId = new { eq = Ids.Trace(second.TraceId) } } } });
        Assert.Equal(2, byRun.GetProperty("totalCount").GetInt32());

        var oldest = all.GetProperty("nodes")[2].GetProperty("accessedAt").GetString();
        var since = await LogAsync(new { userId = new { eq = user }, accessedAt = new { gt = oldest } });
        Assert.Equal(2, since.GetProperty("totalCount").GetInt32());
        var before = await LogAsync(new { userId = new { eq = user }, accessedAt = new { lte = oldest } });
        Assert.Equal("First", Assert.Single(before.GetProperty("nodes").EnumerateArray()).GetProperty("operationName").GetString());
    }

    [Fact]
    public async Task Another_organisations_admin_sees_none_of_the_records_and_other_roles_are_refused()
    {
        var world = await PhiWorld.CreateAsync(api);
        var user = Guid.NewGuid();
        await ReadUnmaskedAsync(world, user, "Mine");
        Assert.Equal(1, (await LogAsync(new { userId = new { eq = user } })).GetProperty("totalCount").GetInt32());

        var theirs = await LogAsync(new { userId = new { eq = user } }, org: GraphApiFixture.OrgB);
        Assert.Equal(0, theirs.GetProperty("totalCount").GetInt32());
        var theirRun = await LogAsync(new { runs = new { some = new { traceId = new { eq = Ids.Trace(world.TraceId) } } } },
            org: GraphApiFixture.OrgB);
        Assert.Equal(0, theirRun.GetProperty("totalCount").GetInt32());

        foreach (var role in new[] { TenantRole.Viewer, TenantRole.Operator })
        {
            var refused = await api.PostAsync(Log, new { where = new { userId = new { eq = user } } }, role: role, scope: "phi:read");
            Assert.Equal(["FORBIDDEN"], refused.ErrorCodes);
            Assert.Equal(JsonValueKind.Null, refused.Body.GetProperty("data").ValueKind);
        }
    }

    [Fact]
    public async Task A_page_larger_than_the_maximum_is_refused()
    {
        var response = await api.PostAsync(Log, new { where = new { }, first = 101 });
        Assert.Equal(["PAGE_SIZE_EXCEEDED"], response.ErrorCodes);
    }
}
