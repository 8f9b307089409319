using System.Globalization;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using WorkflowGraph.Auth;
using WorkflowGraph.Tenancy;

namespace WorkflowGraph.Development;

/// <summary>
/// Development mode's ready tokens: one per demo user of db/demo/demo-data.sql, printed at startup, the first (the
/// admin of Northwind Health Billing) also handed to Banana Cake Pop through its bcp-config.json.
/// </summary>
public sealed class DevelopmentLogin
{
    public sealed record DemoUser(string Organisation, Guid Org, Guid User, TenantRole Role);

    public static readonly IReadOnlyList<DemoUser> DemoUsers =
    [
        new("Northwind Health Billing", Guid.Parse("0a000000-0000-4000-8000-000000000001"),
            Guid.Parse("1a000000-0000-4000-8000-000000000001"), TenantRole.Admin),
        new("Northwind Health Billing", Guid.Parse("0a000000-0000-4000-8000-000000000001"),
            Guid.Parse("1a000000-0000-4000-8000-000000000002"), TenantRole.Operator),
        new("Northwind Health Billing", Guid.Parse("0a000000-0000-4000-8000-000000000001"),
            Guid.Parse("1a000000-0000-4000-8000-000000000003"), TenantRole.Viewer),
        new("Bluebird Revenue Partners", Guid.Parse("0b000000-0000-4000-8000-000000000002"),
            Guid.Parse("1b000000-0000-4000-8000-000000000001"), TenantRole.Admin),
    ];

    private DevelopmentLogin(IReadOnlyList<(DemoUser User, string Token)> tokens, string? keyFile)
    {
        Tokens = tokens;
        KeyFile = keyFile;
    }

    public IReadOnlyList<(DemoUser User, string Token)> Tokens { get; }

    /// <summary>Where the generated key is kept; null when it lives in memory only.</summary>
    public string? KeyFile { get; }

    /// <summary>The header Banana Cake Pop sends by default: the admin of the first demo organisation.</summary>
    public string IdeAuthorization => "Bearer " + Tokens[0].Token;

    public static DevelopmentLogin Create(SecurityKey key, string issuer, string audience, string? keyFile) =>
        new(DemoUsers.Select(user => (user, DevelopmentTokens.Create(key, user.Org, user.User, user.Role,
            DevelopmentTokens.DefaultLifetime, issuer, audience))).ToList(), keyFile);

    /// <summary>What the log shows at startup: the tokens, and how to use one.</summary>
    public string Describe(string baseUrl)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Development tokens (valid {DevelopmentTokens.DefaultLifetime.TotalDays:0} days) for the demo data's users:");
        foreach (var (user, token) in Tokens)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {TokenTenant.RoleName(user.Role),-8} of {user.Organisation} (org {user.Org}, user {user.User}):");
            text.AppendLine(CultureInfo.InvariantCulture, $"    {token}");
        }
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Banana Cake Pop at {baseUrl}/graphql/ sends the first (admin) token by default. From a shell:");
        var query = """-d '{"query":"{ traces(first: 5) { totalCount nodes { id status } } }"}'""";
        text.Append(CultureInfo.InvariantCulture,
            $"  curl -s {baseUrl}/graphql -H 'content-type: application/json' -H 'Authorization: Bearer {Tokens[0].Token}' {query}");
        return text.ToString();
    }
}
