using WorkflowGraph.Database;
using WorkflowGraph.Querying.Emit;
using WorkflowGraph.Querying.Plans;

namespace WorkflowGraph.Querying;

/// <summary>
/// Whether a root field's rows are audited: only for a reader who sees PHI unmasked (<c>phi:read</c>) and only when the
/// selection shows a classified field. The runners then read each row's runs beside its JSON (<see cref="AuditSql"/>) and,
/// when rows came back, add fields and runs to the request's <see cref="PhiAccessRecord"/>.
/// </summary>
internal static class PhiAudit
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    /// <summary>The classified fields the shapes show unmasked to this request's reader; empty when nothing is audited.</summary>
    public static IReadOnlySet<string> Fields(RequestDatabase database, IEnumerable<ObjectShape> shapes)
    {
        if (!database.Tenant.PhiRead)
            return None;
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var shape in shapes)
            fields.UnionWith(AuditSql.ClassifiedFields(shape));
        return fields;
    }
}
