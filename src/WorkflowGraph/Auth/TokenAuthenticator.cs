using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace WorkflowGraph.Auth;

/// <summary>
/// Validates a bearer token with JwtBearer's configured options and handlers (signature, issuer, audience, lifetime;
/// an authority's keys through its discovery document) and turns it into a tenant. It takes the header value rather
/// than a request, so the WebSocket transport can check the <c>Authorization</c> of <c>connection_init</c> the same way.
/// A token that validated is remembered for a while (<see cref="ValidatedTokenCache"/>).
/// </summary>
public sealed class TokenAuthenticator(IOptionsMonitor<JwtBearerOptions> bearerOptions, ValidatedTokenCache validated,
    ILogger<TokenAuthenticator> logger)
{
    private const string Scheme = "Bearer ";

    public async Task<TokenOutcome> AuthenticateAsync(StringValues authorization, CancellationToken cancellationToken)
    {
        if (StringValues.IsNullOrEmpty(authorization) || string.IsNullOrWhiteSpace(authorization.ToString()))
            return TokenOutcome.Missing;
        if (authorization.Count > 1)
            return TokenOutcome.Refused("the request has more than one Authorization header");
        var value = authorization[0]!.Trim();
        if (!value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value.Length == Scheme.Length)
            return TokenOutcome.Refused("the Authorization header is not 'Bearer <JWT>'");
        var token = value[Scheme.Length..].Trim();
        if (validated.TryGet(token, out var remembered))
            return remembered;

        cancellationToken.ThrowIfCancellationRequested();
        var options = bearerOptions.Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = Parameters(options);
        Exception? refusal = null;
        foreach (var handler in options.TokenHandlers)
        {
            var result = await handler.ValidateTokenAsync(token, parameters);
            if (!result.IsValid)
            {
                refusal = result.Exception;
                continue;
            }
            var principal = new ClaimsPrincipal(result.ClaimsIdentity);
            if (!TokenTenant.TryFrom(principal, out var tenant, out var problem))
                return TokenOutcome.Refused(problem);
            var outcome = new TokenOutcome(tenant, principal, "", TokenSent: true);
            validated.Remember(token, outcome, result.SecurityToken.ValidTo);
            return outcome;
        }
        // A bad token is the client's business; anything else (an authority that cannot be reached) is the operator's.
        if (refusal is SecurityTokenException or ArgumentException)
            logger.LogDebug(refusal, "Bearer token refused");
        else
            logger.LogWarning(refusal, "Bearer token could not be validated");
        return TokenOutcome.Refused(Describe(refusal));
    }

    /// <summary>As JwtBearerHandler does: with an authority, its discovery document (fetched and refreshed by the
    /// configuration manager JwtBearer's post-configuration made) supplies the signing keys and the issuer.</summary>
    private static TokenValidationParameters Parameters(JwtBearerOptions options)
    {
        if (options.ConfigurationManager is not BaseConfigurationManager manager)
            return options.TokenValidationParameters;
        var parameters = options.TokenValidationParameters.Clone();
        parameters.ConfigurationManager = manager;
        return parameters;
    }

    private static string Describe(Exception? error) => error switch
    {
        SecurityTokenExpiredException => "it has expired",
        SecurityTokenNotYetValidException => "it is not valid yet",
        SecurityTokenNoExpirationException => "it has no expiry (exp)",
        SecurityTokenInvalidSignatureException => "its signature does not verify",
        SecurityTokenInvalidAlgorithmException => "its signing algorithm is not accepted",
        SecurityTokenInvalidIssuerException => "its issuer (iss) is not accepted",
        SecurityTokenInvalidAudienceException => "its audience (aud) is not accepted",
        SecurityTokenMalformedException or ArgumentException => "it is not a well-formed JWT",
        _ => "it is not valid",
    };
}
