using System.Security.Cryptography;
using Npgsql;

namespace WorkflowGraph.Development;

/// <summary>
/// The embedded cluster's login for the service: not a superuser, owns nothing, may create nothing, and is a member of
/// <c>workflowgraph_app</c> (granted once the migrations made that role). The owner only migrates and loads demo data.
/// Its password is generated once and kept beside the owner's (<c>service-password</c>, mode 0600).
/// </summary>
public static class ServiceLogin
{
    public const string Name = "workflowgraph_service";

    public static string PasswordFileOf(string root) => Path.Combine(root, "service-password");

    /// <summary>Creates the login if it is missing (and sets its password); returns the password.</summary>
    public static async Task<string> EnsureAsync(string ownerConnectionString, string root, CancellationToken cancellationToken)
    {
        var file = PasswordFileOf(root);
        string password;
        if (File.Exists(file))
        {
            password = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }
        else
        {
            password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
            await File.WriteAllTextAsync(file, password + "\n", cancellationToken);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", connection)
        {
            Parameters = { new() { Value = Name } },
        };
        var verb = await exists.ExecuteScalarAsync(cancellationToken) is null ? "CREATE" : "ALTER";
        // the password is ours (hex), never a client's: quoting it as a literal is safe
        await using var login = new NpgsqlCommand(
            $"{verb} ROLE {Name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '{password}'",
            connection);
        await login.ExecuteNonQueryAsync(cancellationToken);
        return password;
    }

    /// <summary>Makes the login a member of <c>workflowgraph_app</c> once the migrations have created that role.</summary>
    public static async Task GrantAppRoleAsync(string ownerConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ownerConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var grant = new NpgsqlCommand($"GRANT workflowgraph_app TO {Name}", connection);
        await grant.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The login's connection string: the owner's with the login's name and password.</summary>
    public static string ConnectionString(string ownerConnectionString, string password) =>
        new NpgsqlConnectionStringBuilder(ownerConnectionString) { Username = Name, Password = password }.ConnectionString;
}
