using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace WorkflowGraph.Transport.Http;

/// <summary>
/// Content negotiation of GraphQL over HTTP. <c>application/graphql-response+json</c> is preferred (its status codes
/// tell a failed validation from a run); <c>application/json</c> is for legacy clients and always answers 200 to a
/// well-formed request. A missing Accept counts as <c>*/*</c>, which the spec (after its 2025 watershed) lets us
/// answer with the preferred type; so does an Accept too malformed to parse (leniency beats a puzzling 406).
/// </summary>
public static class ResponseMediaType
{
    public const string GraphQLResponseJson = "application/graphql-response+json";
    public const string Json = "application/json";

    /// <summary>Ties go to the first: the order is our preference.</summary>
    private static readonly string[] Offered = [GraphQLResponseJson, Json];

    /// <summary>The response type to use, or null when Accept rules out both (406).</summary>
    public static string? Negotiate(StringValues accept)
    {
        if (StringValues.IsNullOrEmpty(accept) || !MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
            return GraphQLResponseJson;
        string? best = null;
        var bestQuality = 0.0;
        foreach (var offered in Offered)
        {
            var quality = QualityOf(offered, ranges);
            if (quality > bestQuality)
            {
                best = offered;
                bestQuality = quality;
            }
        }
        return best;
    }

    /// <summary>True when the client lists text/html explicitly: a browser navigating to the endpoint.</summary>
    public static bool WantsHtml(StringValues accept) =>
        MediaTypeHeaderValue.TryParseList(accept, out var ranges)
        && ranges.Any(range => range.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && (range.Quality ?? 1) > 0);

    /// <summary>RFC 9110 §12.5.1: the most specific range that matches decides the quality (exact, then type/*, then */*).</summary>
    private static double QualityOf(string offered, IList<MediaTypeHeaderValue> ranges)
    {
        var type = offered[..offered.IndexOf('/', StringComparison.Ordinal)];
        MediaTypeHeaderValue? match = null;
        var matchSpecificity = -1;
        foreach (var range in ranges)
        {
            // Compared by hand: MediaTypeHeaderValue.IsSubsetOf lets application/json match any "+json" type,
            // which would make "Accept: application/json" choose graphql-response+json.
            var specificity =
                range.MediaType.Equals(offered, StringComparison.OrdinalIgnoreCase) ? 2
                : range.MatchesAllSubTypes && range.Type.Equals(type, StringComparison.OrdinalIgnoreCase) && !range.MatchesAllTypes ? 1
                : range.MatchesAllTypes ? 0
                : -1;
            if (specificity > matchSpecificity)
            {
                match = range;
                matchSpecificity = specificity;
            }
        }
        return match is null ? 0 : match.Quality ?? 1;
    }
}
