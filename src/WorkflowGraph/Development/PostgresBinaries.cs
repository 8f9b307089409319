namespace WorkflowGraph.Development;

/// <summary>The PostgreSQL server tools of one installation (initdb, pg_ctl and psql from the same directory).</summary>
public sealed record PostgresBinaries(string Directory)
{
    public string Initdb => Path.Combine(Directory, "initdb");
    public string PgCtl => Path.Combine(Directory, "pg_ctl");
    public string Psql => Path.Combine(Directory, "psql");

    private const string DebianRoot = "/usr/lib/postgresql";

    /// <summary>initdb on PATH, else the highest version under /usr/lib/postgresql (Debian keeps it off PATH).</summary>
    public static PostgresBinaries Find()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "initdb"))
            .FirstOrDefault(File.Exists);
        if (onPath is not null)
        {
            // Follow symlinks so pg_ctl and psql come from the same installation as initdb.
            var target = new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath;
            var directory = Path.GetDirectoryName(target)!;
            if (File.Exists(Path.Combine(directory, "pg_ctl"))) return new PostgresBinaries(directory);
            return new PostgresBinaries(Path.GetDirectoryName(onPath)!);
        }

        var installed = System.IO.Directory.Exists(DebianRoot)
            ? System.IO.Directory.GetDirectories(DebianRoot)
                .Select(dir => (dir, version: decimal.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .Where(x => x.version >= 0 && File.Exists(Path.Combine(x.dir, "bin", "initdb")))
                .OrderByDescending(x => x.version)
                .Select(x => Path.Combine(x.dir, "bin"))
                .FirstOrDefault()
            : null;
        return installed is not null
            ? new PostgresBinaries(installed)
            : throw new InvalidOperationException(
                "PostgreSQL server binaries not found (initdb is neither on PATH nor under /usr/lib/postgresql/*/bin). " +
                "Run .ci/setup.sh or install postgresql-15.");
    }
}
