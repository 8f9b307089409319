using WorkflowGraph.Querying.Model;

namespace WorkflowGraph.Querying.Plans;

/// <summary>
/// A condition over one row of an entity, read from a <c>where</c> input: checked, its values converted for
/// PostgreSQL, and no SQL yet (<see cref="Emit.FilterSql"/> writes it).
/// </summary>
public abstract record Filter;

/// <summary>Every part holds; no parts constrain nothing.</summary>
public sealed record AllOf(IReadOnlyList<Filter> Parts) : Filter;

/// <summary>One part holds; no parts, or a part that constrains nothing, constrain nothing.</summary>
public sealed record AnyOf(IReadOnlyList<Filter> Parts) : Filter;

/// <summary>A column compared with one value (<c>eq</c>/<c>neq</c> with null test for NULL).</summary>
public sealed record Comparison(ColumnMap Column, ComparisonOperator Operator, object? Value) : Filter;

/// <summary>A LIKE or ILIKE match against a pattern the planner escaped and wrapped.</summary>
public sealed record PatternMatch(ColumnMap Column, PatternOperator Operator, string Pattern) : Filter;

/// <summary>
/// <c>in</c>/<c>nin</c>: <paramref name="Values"/> is a typed array without nulls; <paramref name="WithNull"/> says
/// null was listed.
/// </summary>
public sealed record Membership(ColumnMap Column, Array Values, bool WithNull, bool Negate) : Filter;

/// <summary>
/// A condition on related rows, as a correlated EXISTS (never a join, so rows are not multiplied): some related row
/// matches, none does (<paramref name="Negate"/>), or every one does (<paramref name="Every"/>: none fails to match).
/// </summary>
public sealed record RelatedRows(RelationMap Relation, Filter Condition, bool Negate, bool Every) : Filter;

public enum ComparisonOperator { Eq, Neq, Gt, Gte, Lt, Lte, NotGt, NotGte, NotLt, NotLte }

public enum PatternOperator { Like, NotLike, ILike }
