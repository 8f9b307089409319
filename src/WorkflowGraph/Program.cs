using WorkflowGraph.Api;
using WorkflowGraph.Api.Http;
using WorkflowGraph.Auth;
using WorkflowGraph.Database;
using WorkflowGraph.Health;
using WorkflowGraph.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseLocalDefault(builder.Configuration);
builder.Services.AddWorkflowGraphAuth();
builder.Services.AddWorkflowGraphDatabase();
builder.Services.AddGraphQLApi(builder.Configuration);
builder.Services.AddGraphQLHttp();

var app = builder.Build();
app.MapHealthEndpoint();
app.MapGraphQLEndpoint();

// RunAsync disposes the host on Ctrl-C, and with it the embedded cluster this process started.
await app.RunAsync();
