using GraphQL.Validation;

namespace WorkflowGraph.Execution;

/// <summary>
/// The rules a cached document still needs on every request: those that depend on the request (its variables, its
/// transport), never the document alone. Each does all its work when asked for its visitor and returns none.
/// </summary>
public sealed class PerRequestRules(params IValidationRule[] rules) : IEnumerable<IValidationRule>
{
    public IEnumerator<IValidationRule> GetEnumerator() => ((IEnumerable<IValidationRule>)rules).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// GraphQL.NET's validator walks the whole document (tracking types field by field) whenever any rule is given, even
/// when no rule returns a visitor. For a cached document (<see cref="DocumentCache"/>) the rules are
/// <see cref="PerRequestRules"/>, which need no walk: they run here on the request's context; then the variables are
/// coerced and the arguments read as the engine's validator does it for every document, without its walks of the
/// document (<see cref="CachedOperationInputs"/>). A rule that returns a visitor after all is refused, so a
/// per-request rule cannot be silently skipped.
/// </summary>
public sealed class CachedDocumentValidator : IDocumentValidator
{
    private readonly DocumentValidator _validator = new();

    public Task<IValidationResult> ValidateAsync(in ValidationOptions options) =>
        options.Rules is PerRequestRules rules ? ValidateCachedAsync(options, rules) : _validator.ValidateAsync(options);

    private async Task<IValidationResult> ValidateCachedAsync(ValidationOptions options, PerRequestRules rules)
    {
        var context = new ValidationContext
        {
            Schema = options.Schema,
            Document = options.Document,
            Operation = options.Operation,
            Variables = options.Variables,
            Extensions = options.Extensions,
            UserContext = options.UserContext,
            Metrics = options.Metrics,
            RequestServices = options.RequestServices,
            User = options.User,
            CancellationToken = options.CancellationToken,
        };
        foreach (var rule in rules)
        {
            if (await rule.GetPreNodeVisitorAsync(context) is not null || await rule.GetVariableVisitorAsync(context) is not null ||
                await rule.GetPostNodeVisitorAsync(context) is not null)
                throw new InvalidOperationException($"{rule.GetType().Name} walks the document; it cannot be a per-request rule");
        }
        if (context.HasErrors)
            return new ValidationResult(context.Errors);
        return options.Operation is null
            ? await _validator.ValidateAsync(options with { Rules = [] })
            : await CachedOperationInputs.ReadAsync(options);
    }
}
