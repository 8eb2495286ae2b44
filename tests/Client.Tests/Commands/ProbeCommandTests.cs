using System.Globalization;
using System.Text;
using Distributed.Client.Bench;
using Distributed.Client.Tests.Output;

namespace Distributed.Client.Tests.Commands;

/// <summary>`bench probe` on a tiny synthetic digits folder in the mnist package's layout: it loads, splits and reports.</summary>
public class ProbeCommandTests
{
    /// <summary>Class d's digit i: a bar at row 2d + 3 of brightness (i + 1)/8, so classes differ and digits are distinct.</summary>
    private static string WriteDigits(string folder, int perClass)
    {
        Directory.CreateDirectory(folder);
        for (int d = 0; d < 10; d++)
        {
            var values = new List<string>();
            for (int i = 0; i < perClass; i++)
                for (int p = 0; p < 784; p++)
                    values.Add((p / 28 == 2 * d + 3 ? (i + 1) / 8.0 : 0).ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(folder, $"{d}.json"), $"{{\"data\": [{string.Join(',', values)}]}}", Encoding.UTF8);
        }
        return folder;
    }

    [Fact]
    public void Load_Split_TakesEachClassesRunInFileOrder()
    {
        using var temp = new TempFolder();
        string folder = WriteDigits(Path.Combine(temp.Path, "digits"), perClass: 5);

        var (images, labels) = DigitProbe.Load(folder, perClassFrom: 3, perClassCount: 2);

        Assert.Equal(Enumerable.Range(0, 10).SelectMany(d => new[] { d, d }), labels);
        Assert.Equal(4 / 8f, images[0][0, 3, 0]);   // class 0, its digit 3: bar on row 3
        Assert.Equal(5 / 8f, images[3][0, 5, 10]);  // class 1, its digit 4: bar on row 5
        Assert.Throws<InvalidDataException>(() => DigitProbe.Load(folder, 3, 3));
    }

    [Fact]
    public async Task BenchProbe_TinyDigits_ReportsThreeContendersAndTwoTests()
    {
        using var temp = new TempFolder();
        string folder = WriteDigits(Path.Combine(temp.Path, "digits"), perClass: 8);

        var (exit, output, error) = await ConsoleRun.RunAsync("bench", "probe", "--data", folder, "--train", "5", "--test", "3", "--unlabelled", "6",
            "--maps", "2,3", "--epochs", "2", "--feature-pool-size", "14");

        Assert.True(exit == 0, $"bench probe exited {exit}: {error}\n{output}");
        Assert.Contains("probe: 50 training digits, 30 test digits", output);
        foreach (string row in new[] { "learned", "random", "pixels" }) Assert.Contains($"  {row}", output);
        Assert.Contains("learned vs random:", output);
        Assert.Contains("McNemar exact p =", output);
    }

    [Fact]
    public async Task BenchProbe_MissingData_FailsWithOneLine()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = await ConsoleRun.RunAsync("bench", "probe", "--data", Path.Combine(temp.Path, "none"));
        Assert.Equal(2, exit);
        Assert.Contains("0.json: not found", error);
    }
}
