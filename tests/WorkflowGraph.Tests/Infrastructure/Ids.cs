using System.Text;

namespace WorkflowGraph.Tests.Infrastructure;

/// <summary>
/// The global ids the API hands out, written here from their documented form (unpadded base64url of
/// "TypeName:key") rather than by the service's own encoder, so a change of form shows in the tests.
/// </summary>
internal static class Ids
{
    public static string Of(string typeName, object key) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{typeName}:{key}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Trace(long id) => Of("WorkflowTrace", id);
    public static string Step(long id) => Of("WorkflowStep", id);
    public static string Event(long id) => Of("WorkflowEvent", id);
    public static string Workflow(Guid id) => Of("Workflow", id);
    public static string Node(int id) => Of("WorkflowNode", id);
    public static string Config(Guid id) => Of("WorkflowConfig", id);

    /// <summary>The database key of the run whose id <paramref name="id"/> holds.</summary>
    public static long TraceKey(System.Text.Json.JsonElement id) => long.Parse(KeyOf(id.GetString()!, "WorkflowTrace"));

    /// <summary>The key in an id of <paramref name="typeName"/>, for tests that go on in SQL.</summary>
    public static string KeyOf(string id, string typeName)
    {
        var base64 = id.Replace('-', '+').Replace('_', '/');
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
        Assert.StartsWith(typeName + ":", text);
        return text[(typeName.Length + 1)..];
    }
}
