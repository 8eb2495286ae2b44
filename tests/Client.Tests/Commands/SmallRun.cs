using Distributed.Client.Tests.Output;

namespace Distributed.Client.Tests.Commands;

/// <summary>Inputs for the command tests: two bundled photos in a folder, and a 1-layer model trained on them once per class.</summary>
public sealed class SmallRun : IDisposable
{
    private readonly TempFolder _temp = new();

    public SmallRun()
    {
        Images = MakeImages("images");
        Model = Path.Combine(_temp.Path, "model");
        var (exit, _, error) = ConsoleRun.RunAsync(["train", "--engine", "serial", "--images", Images, "--out", Model, .. Quick]).GetAwaiter().GetResult();
        Assert.True(exit == 0, $"training the shared model failed: {error}");
    }

    /// <summary>One layer of 2 maps, one short epoch.</summary>
    public static readonly string[] Quick = ["--maps", "2", "--epochs", "1", "--beta-steps", "2", "--reconstructions", "1"];

    public string Root => _temp.Path;

    public string Images { get; }

    public string Model { get; }

    /// <summary>A new folder under the root holding two bundled photos (PNG).</summary>
    public string MakeImages(string name, params string[] names)
    {
        string folder = Path.Combine(_temp.Path, name);
        Directory.CreateDirectory(folder);
        string[] samples = [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples", "images"), "*.png").Order(StringComparer.Ordinal)];
        if (names.Length == 0) names = ["one.png", "two.png"];
        for (int i = 0; i < names.Length; i++) File.Copy(samples[i % 2], Path.Combine(folder, names[i]));
        return folder;
    }

    /// <summary>A copy of the shared model folder to damage.</summary>
    public string CopyOfModel(string name)
    {
        string copy = Path.Combine(_temp.Path, name);
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(Model)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    public void Dispose() => _temp.Dispose();
}
