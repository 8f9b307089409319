using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using GraphQL;
using GraphQLParser.AST;
using GraphQLParser.Visitors;
using Npgsql;

namespace WorkflowGraph.Querying;

/// <summary>
/// A root field's statement as its runner planned and emitted it, kept with the field's node of a cached document
/// (the execution's <c>DocumentCache</c>): a dashboard that sends the same document again is not read, planned and
/// written as SQL again. What a statement's text and parameters depend on is the field's subtree in its document, the
/// values of the variables that subtree uses and whether the reader sees PHI (<see cref="Fragments.StatementScope.PhiRead"/>),
/// so those are the key — the tenant is not (row level security applies it in the transaction), and entries go with
/// their document. A by-key field's key variable (<c>trace(id: $id)</c>) is left out of the key when the field's subtree
/// uses it nowhere else: its runner puts the request's key into its own copy of the parameters.
/// <para>
/// Bounded: at most <see cref="MaxVariants"/> variants per field (a full field starts over), and at most
/// <see cref="FieldStatements.MaxCachedChars"/> characters of statement text in all (past it, everything starts over: a client cycling
/// through many large documents and variables cannot grow it further); a variable whose value this key cannot write
/// (none the schema makes today) means the statement is made for that request alone.
/// </para>
/// </summary>
public sealed class FieldStatements<T>(long maxCachedChars = FieldStatements.MaxCachedChars) where T : class
{
    public const int MaxVariants = 32;

    private ConditionalWeakTable<GraphQLField, ConcurrentDictionary<string, T>> _fields = new();
    private long _chars;

    public bool TryGet(IResolveFieldContext context, string variant, out T entry)
    {
        entry = null!;
        if (!Volatile.Read(ref _fields).TryGetValue(context.FieldAst, out var variants) || !variants.TryGetValue(variant, out entry!))
            return false;
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>Requests that found their field's statement kept.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    private long _hits;

    /// <param name="chars">What the entry holds, in characters (<see cref="FieldStatements.Weight"/>): what the bound counts.</param>
    public void Add(IResolveFieldContext context, string variant, T entry, long chars)
    {
        if (chars > maxCachedChars || !FieldStatements.DocumentKept(context))
            return;
        if (Interlocked.Add(ref _chars, chars) > maxCachedChars)
        {
            Volatile.Write(ref _fields, new ConditionalWeakTable<GraphQLField, ConcurrentDictionary<string, T>>());
            Interlocked.Exchange(ref _chars, chars);
        }
        var variants = Volatile.Read(ref _fields)
            .GetValue(context.FieldAst, _ => new ConcurrentDictionary<string, T>(StringComparer.Ordinal));
        if (variants.Count >= MaxVariants)
            variants.Clear();
        variants[variant] = entry;
    }
}

/// <summary>What <see cref="FieldStatements{T}"/> keys and copies: a request's variant, and parameters for one command.</summary>
public static class FieldStatements
{
    /// <summary>The statement text a runner keeps at most (~16 MB of UTF-16): thousands of typical statements.</summary>
    public const long MaxCachedChars = 8_000_000;

    /// <summary>
    /// This request's variant of the field: whether the reader sees PHI and the value of every variable the field's subtree
    /// uses (its arguments, directives and selection, through fragments; <see cref="VariableUses"/>), less the variable
    /// that <paramref name="keyArgument"/> is when the subtree uses it nowhere else (its runner puts each request's key
    /// into its own copy of the parameters). Another root field's variables are not the field's: a document whose second
    /// field takes a new id each time still finds its first field kept. Null when the document is not kept (its statements
    /// would never be found again) or a value is of a kind the key does not write.
    /// </summary>
    public static string? Variant(IResolveFieldContext context, bool phiRead, string? keyArgument = null)
    {
        if (!DocumentKept(context))
            return null;
        // without its document's node (never so for a field the engine resolves), every variable is the field's
        var uses = context.FieldAst is { } field && context.Document is { } document ? VariableUses(field, document) : null;
        var omitted = keyArgument is not null && uses is not null && KeyVariable(context.FieldAst!, keyArgument) is { } name &&
            uses.GetValueOrDefault(name) == 1 ? name : null;
        var key = new StringBuilder(phiRead ? "p" : "m");
        foreach (var variable in context.Variables ?? GraphQL.Validation.Variables.None)
        {
            if (variable.Name == omitted || uses?.ContainsKey(variable.Name) == false)
                continue;
            key.Append('\u001e').Append(variable.Name).Append(variable.ValueSpecified ? '=' : '~');
            if (!StatementValues.Append(key, variable.Value) || key.Length > MaxVariantChars)
                return null;
        }
        return key.ToString();
    }

    /// <summary>Variables written longer than this (large lists, long texts) make no variant: their statement is made
    /// for the request alone rather than kept with values no other request is likely to send.</summary>
    public const int MaxVariantChars = 4_096;

    /// <summary>The user context key under which the execution says the request's document is kept between requests;
    /// statements are kept only for such documents (others would never be found again).</summary>
    public const string DocumentKeptKey = "workflowgraph.documentKept";

    public static bool DocumentKept(IResolveFieldContext context) =>
        context.UserContext?.TryGetValue(DocumentKeptKey, out var kept) == true && kept is true;

    /// <summary>What a kept statement holds, in characters: its text, its variant and its parameters' values (a text's or
    /// a list's length; 8 for any other value).</summary>
    public static long Weight(string sql, string variant, IEnumerable<NpgsqlParameter> parameters)
    {
        long weight = sql.Length + variant.Length;
        foreach (var parameter in parameters)
        {
            weight += parameter.Value switch
            {
                string text => text.Length,
                Array items => items.Length * 8L + (items is string[] texts ? texts.Sum(t => (long)(t?.Length ?? 0)) : 0),
                _ => 8,
            };
        }
        return weight;
    }

    /// <summary>The variable that <paramref name="argument"/> of <paramref name="field"/> is given as, if any.</summary>
    private static string? KeyVariable(GraphQLField field, string argument)
    {
        foreach (var given in field.Arguments?.Items ?? [])
        {
            if (given.Name.StringValue == argument)
                return (given.Value as GraphQLVariable)?.Name.StringValue;
        }
        return null;
    }

    /// <summary>
    /// How many times each variable is used in <paramref name="field"/>'s subtree — its arguments, its directives and its
    /// selection, a fragment spread counted as the fragment's uses each time it is spread — counted once per node of a
    /// document. A spread of a fragment <paramref name="document"/> does not define (which validation refuses first)
    /// counts every variable of the document as used, so nothing the field might read is left out of its key.
    /// </summary>
    public static IReadOnlyDictionary<string, int> VariableUses(GraphQLField field, GraphQLDocument document) =>
        VariableUseCounter.Of(field, document);

    /// <summary>A copy of the cached parameters for one command (a parameter belongs to the command it is added to),
    /// with the one at <paramref name="replaced"/> (if any) made anew with <paramref name="value"/>.</summary>
    public static List<NpgsqlParameter> Parameters(IReadOnlyList<NpgsqlParameter> cached, int replaced = -1, object? value = null)
    {
        var copy = new List<NpgsqlParameter>(cached.Count);
        for (var i = 0; i < cached.Count; i++)
        {
            copy.Add(i == replaced
                ? new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = cached[i].NpgsqlDbType }
                : cached[i].Clone());
        }
        return copy;
    }
}

/// <summary>How many times each variable is used in a field's subtree (<see cref="FieldStatements.VariableUses"/>).</summary>
internal sealed class VariableUseCounter : ASTVisitor<VariableUseCounter.Counts>
{
    private static readonly VariableUseCounter Visitor = new();
    private static readonly ConditionalWeakTable<GraphQLField, Dictionary<string, int>> Fields = new();

    public sealed class Counts(GraphQLDocument document) : IASTVisitorContext
    {
        public GraphQLDocument Document { get; } = document;
        public Dictionary<string, int> Uses { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Spreading { get; } = new(StringComparer.Ordinal);
        public bool WholeDocument { get; set; }
        public CancellationToken CancellationToken => default;
    }

    public static Dictionary<string, int> Of(GraphQLField field, GraphQLDocument document) =>
        Fields.GetValue(field, node => Count(node, document));

    private static Dictionary<string, int> Count(ASTNode node, GraphQLDocument document)
    {
        var counts = new Counts(document);
        // the visitor's work is synchronous: every ValueTask it returns has completed
        Visitor.VisitAsync(node, counts).AsTask().GetAwaiter().GetResult();
        return counts.Uses;
    }

    protected override ValueTask VisitVariableDefinitionAsync(GraphQLVariableDefinition variableDefinition, Counts context) =>
        variableDefinition.DefaultValue is null ? default : VisitAsync(variableDefinition.DefaultValue, context);

    protected override ValueTask VisitVariableAsync(GraphQLVariable variable, Counts context)
    {
        var name = variable.Name.StringValue;
        context.Uses[name] = context.Uses.GetValueOrDefault(name) + 1;
        return default;
    }

    protected override async ValueTask VisitFragmentSpreadAsync(GraphQLFragmentSpread fragmentSpread, Counts context)
    {
        await VisitAsync(fragmentSpread.Directives, context);
        var name = fragmentSpread.FragmentName.Name.StringValue;
        var fragment = context.Document.Definitions.OfType<GraphQLFragmentDefinition>()
            .FirstOrDefault(definition => definition.FragmentName.Name.StringValue == name);
        if (fragment is null)
        {
            // not the document's: count the whole document's uses, whatever the spread would have brought
            if (context.WholeDocument)
                return;
            context.WholeDocument = true;
            foreach (var definition in context.Document.Definitions)
                await VisitAsync(definition, context);
            return;
        }
        // a fragment that spreads itself is refused by validation; this only keeps the count finite
        if (!context.Spreading.Add(name))
            return;
        await VisitAsync(fragment.Directives, context);
        await VisitAsync(fragment.SelectionSet, context);
        context.Spreading.Remove(name);
    }
}

/// <summary>Coerced variable values written into a cache key: each kind tagged, strings with their length, maps in key
/// order, so two different values never write the same key.</summary>
internal static class StatementValues
{
    public static bool Append(StringBuilder key, object? value)
    {
        switch (value)
        {
            case null:
                key.Append('n');
                return true;
            case string text:
                key.Append('s').Append(text.Length).Append(':').Append(text);
                return true;
            case bool flag:
                key.Append(flag ? 't' : 'f');
                return true;
            case int or long or short or byte or sbyte or ushort or uint or ulong or decimal or System.Numerics.BigInteger:
                key.Append('i').Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture)).Append(';');
                return true;
            case double or float:
                key.Append('r').Append(((IFormattable)value).ToString("R", CultureInfo.InvariantCulture)).Append(';');
                return true;
            case Guid or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan:
                key.Append('d').Append(value.GetType().Name).Append(':')
                    .Append(((IFormattable)value).ToString(value switch { Guid => "D", TimeSpan => "c", _ => "O" },
                        CultureInfo.InvariantCulture)).Append(';');
                return true;
            case Enum member:
                key.Append('e').Append(member.GetType().FullName).Append(':').Append(member.ToString("D")).Append(';');
                return true;
            case IDictionary<string, object?> map:
                key.Append('{');
                foreach (var (name, item) in map.OrderBy(entry => entry.Key, StringComparer.Ordinal))
                {
                    key.Append(name.Length).Append(':').Append(name);
                    if (!Append(key, item))
                        return false;
                }
                key.Append('}');
                return true;
            case IEnumerable items:
                key.Append('[');
                foreach (var item in items)
                {
                    if (!Append(key, item))
                        return false;
                }
                key.Append(']');
                return true;
            default:
                return false;
        }
    }
}
