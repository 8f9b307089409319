using WorkflowGraph.Tests.Database;
namespace WorkflowGraph.Tests.Api;

/// <summary>Timestamps come out in UTC whatever TimeZone the server or database is set to.</summary>
public sealed class TimeZoneTests(GraphApiFixture api) : IClassFixture<GraphApiFixture>
{
    [Fact]
    public async Task Timestamps_are_written_in_utc_when_the_database_uses_another_time_zone()
    {
        await using (var conn = await api.Database.DataSource.OpenConnectionAsync())
            await conn.ExecAsync($"ALTER DATABASE \"{api.Database.DatabaseName}\" SET TimeZone = 'America/New_York'");

        var response = await api.PostAsync("{ trace(id: \"V29ya2Zsb3dUcmFjZTox\") { startTime } }");

        Assert.Equal("2026-01-10T01:00:00+00:00", response.Data.GetProperty("trace").GetProperty("startTime").GetString());
    }
}
