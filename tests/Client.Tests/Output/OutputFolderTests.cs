using Distributed.Client.Output;

namespace Distributed.Client.Tests.Output;

public class OutputFolderTests
{
    [Fact]
    public void Constructor_MissingFolder_CreatesIt()
    {
        using var temp = new TempFolder();
        string nested = Path.Combine(temp.Path, "a", "b");

        var folder = new OutputFolder(nested);

        Assert.True(Directory.Exists(nested));
        Assert.Equal(nested, folder.Path);
    }

    [Fact]
    public void WriteBytes_ExistingFile_ReplacesItAndLeavesNoTemporaryFile()
    {
        using var temp = new TempFolder();
        var folder = new OutputFolder(temp.Path);
        folder.WriteBytes("x.bin", [1, 2, 3]);

        string path = folder.WriteBytes("x.bin", [9]);

        Assert.Equal([9], File.ReadAllBytes(path));
        Assert.Equal(["x.bin"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_WriterThrowsHalfWay_KeepsThePreviousFileAndCleansUp()
    {
        using var temp = new TempFolder();
        var folder = new OutputFolder(temp.Path);
        folder.WriteText("model.json", "{\"complete\": true}");

        Assert.Throws<InvalidOperationException>(() => folder.Write("model.json", stream =>
        {
            stream.Write("{\"compl"u8);
            throw new InvalidOperationException("disk full, say");
        }));

        Assert.Equal("{\"complete\": true}", File.ReadAllText(Path.Combine(temp.Path, "model.json")));
        Assert.Equal(["model.json"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_WriterThrowsOnNewFile_LeavesNoFileAtAll()
    {
        using var temp = new TempFolder();
        var folder = new OutputFolder(temp.Path);

        Assert.Throws<IOException>(() => folder.Write("filters-L1.npy", stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("cut");
        }));

        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("sub/file.txt")]
    [InlineData("..")]
    [InlineData("")]
    public void WriteText_NameWithAFolderOrEmpty_Throws(string name)
    {
        using var temp = new TempFolder();
        var folder = new OutputFolder(temp.Path);

        Assert.ThrowsAny<ArgumentException>(() => folder.WriteText(name, "x"));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }
}
