using Npgsql;
using WorkflowGraph.Database;

namespace WorkflowGraph.Tests.Database;

/// <summary>
/// Prepared statements, no session reset and 64 kB socket reads are on by default, and a connection string that says
/// anything about them wins.
/// </summary>
public sealed class PreparedStatementSettingTests
{
    private static NpgsqlConnectionStringBuilder Applied(string configured)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured);
        DatabaseServices.UsePreparedStatements(configured, builder);
        return builder;
    }

    [Fact]
    public void Without_a_setting_statements_used_twice_are_prepared()
    {
        var builder = Applied("Host=127.0.0.1;Username=app;Password='Max Auto Prepare=0'");
        Assert.Equal(64, builder.MaxAutoPrepare);
        Assert.Equal(2, builder.AutoPrepareMinUsages);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;MaxAutoPrepare=0", 0)]
    [InlineData("Host=127.0.0.1;max auto prepare=10", 10)]
    [InlineData("Host=127.0.0.1; Max Auto Prepare = 5 ", 5)]
    [InlineData("Host=127.0.0.1;Password='Max Auto Prepare=9';MaxAutoPrepare=3", 3)]
    public void A_configured_value_is_kept_however_it_is_spelt(string configured, int expected) =>
        Assert.Equal(expected, Applied(configured).MaxAutoPrepare);

    [Theory]
    [InlineData("Host=127.0.0.1;Username=app", true)]
    [InlineData("Host=127.0.0.1;No Reset On Close=false", false)]
    [InlineData("Host=127.0.0.1;noresetonclose=False", false)]
    public void Connections_go_back_to_the_pool_without_a_session_reset_unless_configured(string configured, bool expected)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured);
        DatabaseServices.KeepSessionsOnReturn(configured, builder);
        Assert.Equal(expected, builder.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Username=app", 65536)]
    [InlineData("Host=127.0.0.1;Read Buffer Size=8192", 8192)]
    [InlineData("Host=127.0.0.1;readbuffersize=16384", 16384)]
    public void Connections_read_64_kB_at_a_time_unless_configured(string configured, int expected)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured);
        DatabaseServices.UseLargeReadBuffer(configured, builder);
        Assert.Equal(expected, builder.ReadBufferSize);
    }
}
