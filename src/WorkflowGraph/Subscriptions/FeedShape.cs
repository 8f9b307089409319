using WorkflowGraph.Querying.Selection;

namespace WorkflowGraph.Subscriptions;

/// <summary>What subscribers of one selection receive: a <c>WorkflowEvent</c> per event, or the run it changed.</summary>
public enum ShapeKind { Event, Trace }

/// <summary>
/// One selection set that some subscribers share. The reader's statement builds its JSON once per event (or per changed
/// run) for all of them; <see cref="Key"/> is the projection SQL it compiles to, so equal selections share a shape.
/// </summary>
public sealed class FeedShape(ShapeKind kind, IReadOnlyList<FieldSelection> fields, string key, bool phiRead,
    IReadOnlySet<string> auditedFields)
{
    public ShapeKind Kind { get; } = kind;
    public IReadOnlyList<FieldSelection> Fields { get; } = fields;
    public string Key { get; } = key;

    /// <summary>The subscriber's token carries <c>phi:read</c>: PHI in this shape's JSON is shown unmasked.</summary>
    public bool PhiRead { get; } = phiRead;

    /// <summary>The classified fields this shape shows unmasked (only with <see cref="PhiRead"/>): each event delivered
    /// with them is audited, and the reader reads its runs beside its JSON.</summary>
    public IReadOnlySet<string> AuditedFields { get; } = auditedFields;

    /// <summary>The selection may cost more to build than its row (<see cref="EventLogReader"/> decides): the feed builds
    /// it in a lane of its own, apart from its read and from the other selections.</summary>
    public bool Heavy { get; init; }
}
