using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>The JSON object one selection set asks for: its fields in response order, each with where it comes from.</summary>
public sealed record ObjectShape(EntityMap Entity, IReadOnlyList<ShapeField> Fields);

/// <summary>One response key of an object.</summary>
public abstract record ShapeField(string ResponseKey, string Name);

/// <summary><c>__typename</c>: the entity's type name.</summary>
public sealed record TypenameField(string ResponseKey) : ShapeField(ResponseKey, "__typename");

/// <summary>A scalar read from the row (or computed over it).</summary>
public sealed record ColumnField(string ResponseKey, ColumnMap Column) : ShapeField(ResponseKey, Column.Field);

/// <summary>A navigation field: the related object, or for a list its rows filtered, ordered and capped.</summary>
public sealed record RelationField(string ResponseKey, RelationMap Relation, ObjectShape Target, RelatedList? List)
    : ShapeField(ResponseKey, Relation.Field);

/// <summary>What a navigation list returns: its <c>where</c>, order and at most <paramref name="Limit"/> rows.</summary>
public sealed record RelatedList(Filter? Where, IReadOnlyList<SortKey> Order, int Limit);
