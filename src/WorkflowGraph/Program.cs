using WorkflowGraph.Database;
using WorkflowGraph.Health;
using WorkflowGraph.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseLocalDefault(builder.Configuration);
builder.Services.AddWorkflowGraphDatabase();

var app = builder.Build();
app.MapHealthEndpoint();

// RunAsync disposes the host on Ctrl-C, and with it the embedded cluster this process started.
await app.RunAsync();
