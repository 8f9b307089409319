using System.Text;
using GraphQL;
using GraphQL.Execution;
using WorkflowGraph.Querying;

namespace WorkflowGraph.Execution;

/// <summary>
/// About how many bytes of JSON a result's data will be, measured before anything is written or committed: the JSON
/// the database built is counted exactly, other values by their text and each response key by its name.
/// </summary>
public static class ResponseSize
{
    public static long Of(ExecutionResult result)
    {
        if (result.Data is not ExecutionNode root)
            return 0;
        long size = 0;
        var pending = new Stack<ExecutionNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            size += (node.Name?.Length ?? 0) + 4;
            switch (node)
            {
                case RawJsonExecutionNode raw:
                    size += raw.Result switch
                    {
                        RawJson json => json.Utf8Length,
                        IReadOnlyList<RawJson> list => list.Sum(json => (long)json.Utf8Length + 1),
                        _ => 4,
                    };
                    break;
                case ObjectExecutionNode parent:
                    foreach (var child in parent.SubFields ?? [])
                        pending.Push(child);
                    break;
                case ArrayExecutionNode array:
                    foreach (var item in array.Items ?? [])
                        pending.Push(item);
                    break;
                default:
                    size += node.ToValue() switch
                    {
                        string text => Encoding.UTF8.GetByteCount(text) + 2,
                        RawJson json => json.Utf8Length,
                        _ => 8,
                    };
                    break;
            }
        }
        return size;
    }
}
