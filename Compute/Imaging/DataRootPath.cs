namespace Distributed.Compute.Imaging;

/// <summary>
/// Paths under a silo's data root, the one folder shards may read images from by name. A path is refused when it
/// leaves the root lexically (<c>..</c>, an absolute path) or through a symbolic link anywhere along it (a link to
/// <c>/etc/passwd</c> inside the root): links are followed component by component, as the kernel would, and the
/// real path must lie under the root's real path. Links that stay inside the root are fine; so is a root that is
/// itself a link. The path handed back is the lexical one under the root (callers name files relative to the root as
/// given), so whoever can write inside the root could still swap a component for a link between this check and the
/// read; every read checks again just before it opens the file.
/// </summary>
public static class DataRootPath
{
    /// <summary>Linux gives up after 40 links (ELOOP); so does this.</summary>
    private const int MaxLinks = 40;

    /// <summary>The full path of <paramref name="relative"/> under <paramref name="root"/>, once it and its real (link-free) path are both checked to lie inside.</summary>
    /// <exception cref="UnauthorizedAccessException">No root, or the path leaves it.</exception>
    public static string Resolve(string? root, string relative)
    {
        if (string.IsNullOrEmpty(root))
            throw new UnauthorizedAccessException("this silo has no data root (--data-root); images cannot be read by path.");
        ArgumentNullException.ThrowIfNull(relative);
        string fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string full = Path.GetFullPath(Path.Combine(fullRoot, relative));
        if (!IsSameOrInside(full, fullRoot))
            throw new UnauthorizedAccessException($"'{relative}' resolves outside the data root {fullRoot}.");
        // Resolved from the path as written, not the lexically tidied one: the kernel follows "deep/.." through the
        // link "deep", so "good/deep/../x" may leave the root although "good/x" does not.
        string realRoot = RealPath(fullRoot, relative);
        string real = RealPath(Path.Combine(fullRoot, relative), relative);
        if (!IsSameOrInside(real, realRoot))
            throw new UnauthorizedAccessException($"'{relative}' is or passes through a symbolic link that leaves the data root {fullRoot}.");
        return full;
    }

    /// <summary>
    /// <paramref name="fullPath"/> with every symbolic link replaced by its target, walking one component at a time
    /// so that <c>..</c> after a link climbs from the link's target, not from the link (what realpath(3) does).
    /// A path that does not exist resolves as far as it exists; the rest is appended unchanged.
    /// </summary>
    public static string RealPath(string fullPath, string? nameForErrors = null)
    {
        ArgumentNullException.ThrowIfNull(fullPath);
        if (!Path.IsPathFullyQualified(fullPath)) throw new ArgumentException($"'{fullPath}' is not a full path.", nameof(fullPath));
        string current = Path.GetPathRoot(fullPath)!;
        var pending = new Stack<string>(Components(fullPath[current.Length..]).Reverse());
        int links = 0;
        while (pending.TryPop(out string? part))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, part);
            string? target = LinkTarget(next);
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks)
                throw new UnauthorizedAccessException($"'{nameForErrors ?? fullPath}': more than {MaxLinks} symbolic links on the way (a loop?).");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
            foreach (string t in Components(Path.IsPathRooted(target) ? target[Path.GetPathRoot(target)!.Length..] : target).Reverse()) pending.Push(t);
        }
        return current;
    }

    private static string[] Components(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;   // missing or unreadable: not a link we could follow; the read that follows reports it
        }
    }

    private static bool IsSameOrInside(string path, string folder) =>
        path == folder || path.StartsWith(folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
