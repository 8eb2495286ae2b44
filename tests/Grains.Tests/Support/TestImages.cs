using System.Text;

namespace Distributed.Grains.Tests.Support;

/// <summary>Small deterministic grey images (PGM) with structure worth coding: a few oriented waves plus noise.</summary>
internal static class TestImages
{
    /// <summary>The folder every test's images go under: the silos' data root in the cluster fixture.</summary>
    public static string Root { get; } = Path.Combine(Path.GetTempPath(), "distributed-tests");

    /// <summary>The folder (relative to <see cref="Root"/>) <see cref="Write"/> uses for <paramref name="name"/>.</summary>
    public static string FolderOf(string name) => $"{name}-{Environment.ProcessId}";

    /// <summary>Writes <paramref name="count"/> images of <paramref name="size"/>² to a new temp folder; returns the files.</summary>
    public static string[] Write(string name, int count, int size, int seed)
    {
        string folder = Path.Combine(Root, FolderOf(name));
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        var files = new string[count];
        for (int i = 0; i < count; i++)
        {
            double fx = 0.2 + rng.NextDouble(), fy = 0.2 + rng.NextDouble(), phase = rng.NextDouble() * 6.28;
            var pixels = new byte[size * size];
            for (int r = 0; r < size; r++)
                for (int c = 0; c < size; c++)
                {
                    double v = 0.5 + 0.3 * Math.Sin(fx * c + fy * r + phase) + 0.15 * Math.Cos(0.7 * fy * c - 0.4 * fx * r) + 0.05 * (rng.NextDouble() - 0.5);
                    pixels[r * size + c] = (byte)Math.Clamp(Math.Round(v * 255), 0, 255);
                }
            files[i] = Path.Combine(folder, $"img{i:D2}.pgm");
            using var stream = File.Create(files[i]);
            stream.Write(Encoding.ASCII.GetBytes($"P5\n{size} {size}\n255\n"));
            stream.Write(pixels);
        }
        return files;
    }
}
