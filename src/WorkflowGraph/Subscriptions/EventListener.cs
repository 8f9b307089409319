using System.Text.Json;
using Npgsql;
using WorkflowGraph.Database;

namespace WorkflowGraph.Subscriptions;

/// <summary>
/// The instance's one <c>LISTEN workflow_events</c> connection: a notification wakes its organisation's feed, and
/// every feed is woken when the connection is (re-)established and on the poll tick. A lost connection is reopened
/// with backoff. NOTIFY only says "look": what a feed reads is decided by its position, so a lost notification (a
/// dropped connection, a restart) delays events but never loses them.
/// </summary>
public sealed class EventListener(FeedRegistry feeds, DatabaseConnections connections, SubscriptionOptions options,
    ILogger<EventListener> logger) : BackgroundService
{
    public const string Channel = "workflow_events";

    /// <summary>Whether the LISTEN connection is up (<c>/healthz</c> reports it).</summary>
    public bool Listening { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new ReconnectBackoff();
        var poll = TimeSpan.FromSeconds(Math.Max(0.1, options.SubscriptionPollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(connections.Listener) { KeepAlive = 10, Pooling = false };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                Listening = true;
                backoff.Reset();
                logger.LogInformation("Listening for {Channel} notifications", Channel);
                // whatever committed while nobody listened is read now, from each feed's position
                feeds.WakeAll();
                // the backstop runs on its own clock: notifications of busy organisations must not starve it
                var lastPoll = DateTime.UtcNow;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(poll, stoppingToken);
                    if (DateTime.UtcNow - lastPoll >= poll)
                    {
                        feeds.WakeAll();
                        lastPoll = DateTime.UtcNow;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Listening = false;
                var delay = backoff.Next();
                logger.LogWarning(e, "The {Channel} listener lost its connection; reconnecting in {Delay} ms", Channel,
                    delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        Listening = false;
    }

    private void OnNotification(string payload)
    {
        // {"id":..,"trace_id":..,"org_id":"..","type":".."}: only the organisation matters here
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.TryGetProperty("org_id", out var org) && org.TryGetGuid(out var orgId)
                && feeds.TryGet(orgId, out var feed))
                feed.Wake();
        }
        catch (JsonException)
        {
            feeds.WakeAll();
        }
    }
}
