using System.Security.Cryptography;
using System.Text;
using WorkflowGraph.Auth;
using WorkflowGraph.Hosting;

namespace WorkflowGraph.Development;

/// <summary>
/// Development mode's signing key, kept in the repository's ignored <c>.data/</c> (beside the embedded cluster) so
/// that printed tokens, and the ones Banana Cake Pop saved with its documents, stay valid across restarts.
/// </summary>
public static class DevelopmentKey
{
    public const string FileName = "dev-signing-key";

    /// <returns>The key's value (used like Auth:SigningKey) and the file holding it, or null when it lives only in memory.</returns>
    public static (string Value, string? File) LoadOrCreate(string? configuredFile, IHostEnvironment environment, ILogger logger)
    {
        var file = string.IsNullOrWhiteSpace(configuredFile)
            ? Path.Combine(RepoRoot.Find(environment.ContentRootPath) ?? environment.ContentRootPath, ".data", FileName)
            : Path.GetFullPath(configuredFile);
        var value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(AuthOptions.MinimumKeyBytes));
        try
        {
            if (File.Exists(file))
            {
                var kept = File.ReadAllText(file).Trim();
                if (Encoding.UTF8.GetByteCount(kept) >= AuthOptions.MinimumKeyBytes) return (kept, file);
                logger.LogWarning("{File} holds a key shorter than {Bytes} bytes; replacing it", file, AuthOptions.MinimumKeyBytes);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(file, create))
                stream.Write(Encoding.UTF8.GetBytes(value + "\n"));
            return (value, file);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not keep the development signing key in {File} ({Message}); it lives in memory, " +
                              "so tokens printed now stop working when the service restarts", file, error.Message);
            return (value, null);
        }
    }
}
