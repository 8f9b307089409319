using WorkflowGraph;
using WorkflowGraph.Analytics.Advice;
using WorkflowGraph.Analytics.Rollups;
using WorkflowGraph.Auth;
using WorkflowGraph.Database;
using WorkflowGraph.Development;
using WorkflowGraph.Execution;
using WorkflowGraph.Exports;
using WorkflowGraph.Health;
using WorkflowGraph.Hosting;
using WorkflowGraph.RateLimiting;
using WorkflowGraph.Subscriptions;
using WorkflowGraph.Telemetry;
using WorkflowGraph.Traces;
using WorkflowGraph.Transport.Cors;
using WorkflowGraph.Transport.Http;
using WorkflowGraph.Transport.Persisted;
using WorkflowGraph.Transport.WebSockets;

// `retention run`, `archive restore <file>`, `archive read <file>`: the owner's retention commands (README, Retention
// archives); the service does not start
if (WorkflowGraph.Retention.RetentionCommands.Handles(args))
    return await WorkflowGraph.Retention.RetentionCommands.RunAsync(args, Console.Out, Console.Error);

SocketSettings.CompleteInline();
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseLocalDefault(builder.Configuration);
builder.Services.AddWorkflowGraphAuth();
builder.Services.AddWorkflowGraphDatabase();
builder.Services.AddGraphQLApi(builder.Configuration, Features.All);
builder.Services.AddLiveSubscriptions(builder.Configuration);
builder.Services.AddGraphQLHttp(builder.Configuration);
builder.Services.AddGraphQLWebSockets(builder.Configuration);
builder.Services.AddGraphQLCors(builder.Configuration, builder.Environment);
builder.Services.AddPersistedDocuments(builder.Configuration, builder.Environment);
builder.Services.AddWorkflowGraphTelemetry(builder.Configuration);
builder.Services.AddShutdownDrain();
builder.Services.AddProbes();
builder.Services.AddOrganisationLimits(builder.Configuration);
builder.Services.AddHostedService<RunSweeper>();
builder.Services.AddHostedService<BulkOperationWorker>();
builder.Services.AddSingleton<AnomalyAlerts>();
builder.Services.AddExports();
builder.Services.AddHostedService<StatsRollupJob>();
// development mode: the embedded cluster and a generated signing key, each only when its setting is absent
builder.Services.AddDevelopmentFallbacks();

var app = builder.Build();
app.UseGraphQLCors();
app.UseGraphQLWebSockets();
app.MapHealthEndpoint();
app.MapProbes();
app.MapMetricsEndpoint();
app.MapGraphQLEndpoint();
app.MapExportDownloads();

// RunAsync disposes the host on Ctrl-C, and with it the embedded cluster this process started.
await app.RunAsync();
return 0;
