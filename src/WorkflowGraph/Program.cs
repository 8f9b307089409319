using WorkflowGraph.Api;
using WorkflowGraph.Api.Http;
using WorkflowGraph.Api.WebSockets;
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
builder.Services.AddGraphQLWebSockets();

var app = builder.Build();
app.UseGraphQLWebSockets();
app.MapHealthEndpoint();
app.MapGraphQLEndpoint();

// RunAsync disposes the host on Ctrl-C, and with it the embedded cluster this process started.
await app.RunAsync();
