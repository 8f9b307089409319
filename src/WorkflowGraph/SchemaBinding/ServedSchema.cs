using GraphQL;
using GraphQL.Introspection;
using GraphQL.Resolvers;
using GraphQL.Types;
using GraphQL.Utilities;
using GraphQLParser.AST;

namespace WorkflowGraph.SchemaBinding;

/// <summary>
/// GraphQL.NET's schema with the introspection of the current specification that GraphQL.NET 8.8.5 lacks and
/// graphql-js asks for with all its options on: <c>__Type.specifiedByURL</c> (from <c>@specifiedBy</c> on the SDL's
/// scalars) and <c>includeDeprecated</c> on <c>__Directive.args</c> (the other input-value deprecation fields are
/// GraphQL.NET's own, switched on by <see cref="Build"/>).
/// </summary>
public sealed class ServedSchema(IServiceProvider services, bool runConfigurations) : Schema(services, runConfigurations)
{
    /// <summary>The built-in directive that links a custom scalar to its specification.</summary>
    public const string SpecifiedBy = "specifiedBy";

    private const string UrlArgument = "url";

    public static Schema Build(string sdl, Action<SchemaBuilder> configure)
    {
        var schema = For<Builder>(sdl, configure);
        schema.Features.RepeatableDirectives = true;
        schema.Features.DeprecationOfInputValues = true;
        return schema;
    }

    /// <summary>The specification URL a scalar names with <c>@specifiedBy(url:)</c>, if any.</summary>
    public static string? SpecifiedByUrl(IGraphType type) =>
        type is ScalarGraphType scalar ? scalar.FindAppliedDirective(SpecifiedBy)?.FindArgument(UrlArgument)?.Value as string : null;

    public static Directive SpecifiedByDirective() => new SpecifiedByGraphDirective
    {
        Description = "Exposes a URL that specifies the behaviour of this scalar.",
        Arguments = new QueryArguments(new QueryArgument<NonNullGraphType<StringGraphType>>
        {
            Name = UrlArgument,
            Description = "The URL that specifies the behaviour of this scalar.",
        }),
    };

    protected override void OnBeforeInitializeType(IGraphType graphType)
    {
        base.OnBeforeInitializeType(graphType);
        switch (graphType)
        {
            case __Type type:
                type.Field<StringGraphType>("specifiedByURL").Resolve(context =>
                    SpecifiedByUrl(context.Source as IGraphType ?? throw new InvalidOperationException("not a type")));
                break;
            case __Directive directive:
                // the same list as before, with the argument the specification gives it; no directive argument is
                // deprecated today, so includeDeprecated only decides whether a deprecated one would be listed
                var args = directive.GetField("args") ?? throw new InvalidOperationException("__Directive.args is missing");
                args.Arguments = new QueryArguments(
                    new QueryArgument<BooleanGraphType> { Name = "includeDeprecated", DefaultValue = false });
                args.Resolver = new FuncFieldResolver<Directive, IEnumerable<QueryArgument>>(context =>
                {
                    IEnumerable<QueryArgument> all = context.Source!.Arguments ?? [];
                    return context.GetArgument("includeDeprecated", false)
                        ? all : all.Where(a => string.IsNullOrWhiteSpace(a.DeprecationReason));
                });
                break;
        }
    }

    // a type-system directive, which GraphQL.NET hides from introspection unless told; the specification lists it
    private sealed class SpecifiedByGraphDirective() : Directive(SpecifiedBy, DirectiveLocation.Scalar)
    {
        public override bool? Introspectable => true;
    }

    private sealed class Builder : SchemaBuilder
    {
        protected override Schema CreateSchema() => new ServedSchema(ServiceProvider, RunConfigurations);
    }
}
