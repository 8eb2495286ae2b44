using System.Net;
using System.Net.Sockets;
using Distributed.Client.Commands;
using Distributed.Client.Tests.Output;

namespace Distributed.Client.Tests.Commands;

/// <summary>
/// `infer --engine distributed` end to end on the bundled photos (an in-process silo, two shards): the same folder as
/// the serial engine, byte for byte; and the one-line errors of a bad engine, a bad flag and an unreachable cluster.
/// </summary>
public class InferEngineTests
{
    [Fact]
    public async Task Infer_DistributedEngineTwoShards_WritesTheSerialEnginesFilesByteForByte()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model");
        // Two layers of the initial filters (no epochs): the pass is what is compared, not what training learned.
        var (trained, _, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "3,6", "--epochs", "0", "--reconstructions", "0");
        Assert.True(trained == 0, trainError);
        string samples = TrainCommand.SamplesFolder();
        string[] square = [.. new[] { "skimage-astronaut.png", "libjxl-wesaturate-keong_macan.png" }.Select(f => Path.Combine(samples, f))];
        string[] flags = ["--model", model, "--images", .. square, "--save-maps", "--features", "--rectify", "split", "--pool-size", "16", "--reconstructions", "1"];

        string serial = Path.Combine(temp.Path, "serial"), distributed = Path.Combine(temp.Path, "distributed");
        var (exitSerial, _, errorSerial) = await ConsoleRun.RunAsync(["infer", .. flags, "--out", serial, "--engine", "serial"]);
        var (exit, output, error) = await ConsoleRun.RunAsync(["infer", .. flags, "--out", distributed, "--engine", "distributed", "--shards", "2"]);

        Assert.True(exitSerial == 0, $"serial infer exited {exitSerial}: {errorSerial}");
        Assert.True(exit == 0, $"distributed infer exited {exit}: {error}");
        Assert.Contains("(distributed, embedded silo)", output);
        Assert.DoesNotContain("every map coefficient is zero", errorSerial);
        string[] files = [.. Directory.GetFiles(serial).Select(Path.GetFileName).Where(f => f != "run.json" && f != "index.json").Order()!];
        Assert.Equal(files, Directory.GetFiles(distributed).Select(Path.GetFileName).Where(f => f != "run.json" && f != "index.json").Order());
        Assert.Equal(2 * 2, files.Count(f => f!.StartsWith("maps-", StringComparison.Ordinal)));
        Assert.Equal(["reconstruction-skimage-astronaut.png"], files.Where(f => f!.StartsWith("reconstruction-", StringComparison.Ordinal)));
        Assert.Contains("features.npy", files);
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(serial, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(distributed, file))), $"{file} differs between the engines");
    }

    [Theory]
    [InlineData(new[] { "--engine", "bogus" }, "infer: --engine: 'bogus'; allowed serial, distributed.")]
    [InlineData(new[] { "--engine", "distributed", "--features", "--pool", "median" }, "infer: --pool: 'median'; allowed avg, max.")]
    [InlineData(new[] { "--engine", "distributed", "--shards", "2", "--features" }, "infer: --features: ")]
    public async Task Infer_BadEngineOrFlag_OneLineExit2(string[] args, string expected)
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model");
        var (trained, _, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "2", "--epochs", "0", "--reconstructions", "0");
        Assert.True(trained == 0, trainError);

        var (exit, _, error) = await ConsoleRun.RunAsync(["infer", "--model", model, "--out", Path.Combine(temp.Path, "out"), .. args]);

        Assert.Equal(2, exit);
        Assert.StartsWith(expected, error);
        if (expected.EndsWith("--features: ", StringComparison.Ordinal)) Assert.Contains("one feature matrix needs images of one size", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "out")), "a failed infer left its output folder");
    }

    [Fact]
    public async Task Infer_UnreachableCluster_OneLineExit2NamingTheCluster()
    {
        using var temp = new TempFolder();
        string model = Path.Combine(temp.Path, "model");
        var (trained, _, trainError) = await ConsoleRun.RunAsync("train", "--engine", "serial", "--out", model, "--maps", "2", "--epochs", "0", "--reconstructions", "0");
        Assert.True(trained == 0, trainError);
        int port = FreePort();

        var (exit, _, error) = await ConsoleRun.RunAsync("infer", "--model", model, "--out", Path.Combine(temp.Path, "out"),
            "--engine", "distributed", "--cluster", $"localhost:{port}", "--connect-attempts", "1");

        Assert.Equal(2, exit);
        Assert.StartsWith($"infer: cannot reach the cluster at localhost:{port}", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
