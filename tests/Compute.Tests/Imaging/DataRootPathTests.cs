using Distributed.Compute.Imaging;

namespace Distributed.Compute.Tests.Imaging;

/// <summary>Reads by path stay inside the data root: no `..`, no absolute path, no symbolic link that leads out.</summary>
public sealed class DataRootPathTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "distributed-data-root-" + Guid.NewGuid().ToString("N"));
    private readonly string _root;
    private readonly string _secret;

    public DataRootPathTests()
    {
        _root = Path.Combine(_temp, "root");
        Directory.CreateDirectory(Path.Combine(_root, "good", "deeper"));
        File.WriteAllText(Path.Combine(_root, "good", "a.pgm"), "P5");
        Directory.CreateDirectory(Path.Combine(_temp, "outside"));
        _secret = Path.Combine(_temp, "outside", "passwd");
        File.WriteAllText(_secret, "root:x:0:0");
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData("good/a.pgm")]
    [InlineData("good")]
    [InlineData("good/deeper/../a.pgm")]
    [InlineData("missing/file.png")]
    public void Resolve_PathInsideTheRoot_ItsFullPath(string relative)
    {
        Assert.Equal(Path.GetFullPath(Path.Combine(_root, relative)), DataRootPath.Resolve(_root, relative));
    }

    [Theory]
    [InlineData("../outside/passwd")]
    [InlineData("good/../../outside")]
    [InlineData("/etc/passwd")]
    public void Resolve_PathLeavingTheRoot_Refused(string relative)
    {
        var e = Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, relative));
        Assert.Contains("outside the data root", e.Message);
    }

    [Fact]
    public void Resolve_FileLinkToOutside_Refused()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "good", "passwd.pgm"), _secret);

        var e = Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, "good/passwd.pgm"));

        Assert.Equal($"'good/passwd.pgm' is or passes through a symbolic link that leaves the data root {_root}.", e.Message);
    }

    [Fact]
    public void Resolve_RelativeFolderLinkClimbingOut_Refused()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "good", "up"), "../../outside");

        Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, "good/up/passwd"));
        Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, "good/up"));
    }

    [Fact]
    public void Resolve_DotDotAfterALinkClimbsFromItsTarget_Refused()
    {
        // Lexically "good/deep/../.." is the root itself; through the link, ".." climbs from outside/x, so the path is outside.
        Directory.CreateDirectory(Path.Combine(_temp, "outside", "x"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "good", "deep"), Path.Combine(_temp, "outside", "x"));

        Assert.Equal(Path.Combine(_temp, "outside"), DataRootPath.RealPath(Path.Combine(_root, "good", "deep", "..")));
        Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, "good/deep/../passwd"));
    }

    [Fact]
    public void Resolve_LinksThatStayInside_Allowed()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "alias.pgm"), Path.Combine("good", "a.pgm"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "same"), Path.Combine(_root, "good"));

        Assert.Equal(Path.Combine(_root, "alias.pgm"), DataRootPath.Resolve(_root, "alias.pgm"));
        Assert.Equal(Path.Combine(_root, "same", "a.pgm"), DataRootPath.Resolve(_root, "same/a.pgm"));
    }

    [Fact]
    public void Resolve_RootItselfALink_FilesInsideAllowed()
    {
        string linkedRoot = Path.Combine(_temp, "linked-root");
        Directory.CreateSymbolicLink(linkedRoot, _root);

        Assert.Equal(Path.Combine(linkedRoot, "good", "a.pgm"), DataRootPath.Resolve(linkedRoot, "good/a.pgm"));
    }

    [Fact]
    public void Resolve_LinkLoop_RefusedNotHung()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(_root, "loop2"), "loop1");

        var e = Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(_root, "loop1"));
        Assert.Contains("more than 40 symbolic links", e.Message);
    }

    [Fact]
    public void Resolve_NoRoot_Refused()
    {
        Assert.Throws<UnauthorizedAccessException>(() => DataRootPath.Resolve(null, "good/a.pgm"));
    }
}
