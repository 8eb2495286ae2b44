using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Distributed.Client.Cluster;
using Distributed.Client.Commands;
using Distributed.Client.Engines;
using Distributed.Compute.Imaging;
using Distributed.Compute.Training;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Abstractions.Messaging;
using Distributed.Grains.Abstractions.Shards;
using Distributed.Grains.Execution;
using Distributed.Grains.Hosting;
using Distributed.Grains.Tests.Cluster;
using Distributed.Grains.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using ShardImage = Distributed.Grains.Abstractions.Shards.EncodedImage;
using Distributed.Grains.Messaging.Wire;

namespace Distributed.Grains.Tests.Jobs;

/// <summary>
/// Bad input, one test per kind: the answer names the problem, the silos stay up, and a bystander job that is in the
/// middle of its second epoch (held there by the shard gate while the bad input is handled) finishes with exactly the
/// serial engine's result. Bad images are uploaded straight to the shards or read from the data root, past the
/// client's own checks, because a silo must survive whatever a client sends.
/// </summary>
[Collection(BadInputCollection.Name)]
public sealed class BadInputTests(BadInputCluster fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static TrainingSpec Small(bool rgb = false) => new()
    {
        Layers = [new LayerSpec { Maps = 3, FilterSize = 5, Epochs = 1 }],
        Grey = !rgb,
        Seed = 2,
    };

    [Theory]
    [InlineData("upload")]
    [InlineData("data-root")]
    public async Task Train_CorruptImageFile_FailsNamingTheFile(string source)
    {
        string job = $"bad-corrupt-{source}";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () => source == "upload"
            ? TrainUploadedAsync(job, Small(), [("good.pgm", Pgm(16, 1)), ("broken.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])])
            : TrainOnSiloAsync(job, Small(), "corrupt"));

        AssertFailed(status, "broken.png", "PNG");
        Assert.Equal("images", status.ErrorField);
    }

    [Fact]
    public async Task Train_ZeroByteFile_FailsNamingTheFile()
    {
        const string job = "bad-zero-byte";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () => TrainUploadedAsync(job, Small(), [("good.pgm", Pgm(16, 1)), ("empty.png", [])]));

        AssertFailed(status, "empty.png", "zero-byte");
        Assert.Equal("images", status.ErrorField);
    }

    [Fact]
    public async Task Train_NonImageFile_FailsNamingTheFile()
    {
        const string job = "bad-not-an-image";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () =>
            TrainUploadedAsync(job, Small(), [("good.pgm", Pgm(16, 1)), ("notes.png", Encoding.UTF8.GetBytes("meeting notes, not a picture\n"))]));

        AssertFailed(status, "notes.png", "not a PNG, JPEG or binary PGM/PPM image");
        Assert.Equal("images", status.ErrorField);
    }

    [Fact]
    public async Task Submit_EmptyFolderOnSilo_RejectedNamingTheFolder()
    {
        const string job = "bad-empty-folder";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small(), dataPath: "empty"));

        AssertRejected(plan, job, "images", "no images under 'empty'");
        Assert.Equal(JobState.Unknown, (await Job(job).GetStatusAsync()).State);
    }

    [Fact]
    public async Task Train_ImageLargerThanLimit_FailsNamingSizeAndLimit()
    {
        const string job = "bad-too-large";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () =>
            TrainUploadedAsync(job, Small(), [("small.pgm", Pgm(8, 1)), ("large.pgm", Pgm(16, 2))], maxPixels: 100));

        AssertFailed(status, "large.pgm", "16×16", "limit");
        Assert.Equal("images", status.ErrorField);
    }

    [Fact]
    public async Task Train_ImageOverTheSilosLimit_FailsAlthoughTheJobAllowsIt()
    {
        // The job asks for 16 megapixels; the silos allow BadInputCluster.SiloMaxPixels (20×20 is over it).
        const string job = "bad-over-silo-limit";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () =>
            TrainUploadedAsync(job, Small(), [("small.pgm", Pgm(8, 1)), ("large.pgm", Pgm(20, 2))], maxPixels: 16_000_000));

        AssertFailed(status, "large.pgm", "20×20", "limit");
        Assert.Equal("images", status.ErrorField);
    }

    [Fact]
    public async Task Submit_SymbolicLinkLeavingTheDataRoot_RefusedWithoutReadingIt()
    {
        const string job = "bad-symlink-out";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small(), dataPath: "linked"));

        AssertRejected(plan, job, "data-path", "symbolic link that leaves the data root");
        Assert.DoesNotContain("root:x", plan.Error);
        Assert.Equal(JobState.Unknown, (await Job(job).GetStatusAsync()).State);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Train_GreyAndColourImagesInOneJob_FailsNamingThePlanes(int shards)
    {
        string job = $"bad-mixed-channels-{shards}";
        JobStatus status = await WhileAnotherJobRunsAsync(job, () =>
            TrainUploadedAsync(job, Small(rgb: true), [("grey.pgm", Pgm(16, 1)), ("colour.ppm", Ppm(16, 2))], shards: shards));

        AssertFailed(status, "1", "3", "planes");
        Assert.Equal("images", status.ErrorField);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public async Task Submit_LambdaNotPositive_RejectedNamingLambda(double lambda)
    {
        string job = $"bad-lambda-{(double.IsNaN(lambda) ? "nan" : lambda.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small() with { Layers = [new LayerSpec { Maps = 3, FilterSize = 5, Lambda = lambda }] }));

        AssertRejected(plan, job, "layers.lambda", "layers.lambda");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public async Task Submit_POutsideZeroToOne_RejectedNamingP(double p)
    {
        string job = $"bad-p-{(double.IsNaN(p) ? "nan" : p.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small() with { Layers = [new LayerSpec { Maps = 3, FilterSize = 5, P = p }] }));

        AssertRejected(plan, job, "layers.p", "layers.p = ");
    }

    [Fact]
    public async Task Train_FilterLargerThanImage_FailsNamingFilterSize()
    {
        const string job = "bad-filter-too-large";
        TrainingSpec spec = Small() with { Layers = [new LayerSpec { Maps = 3, FilterSize = 11, Epochs = 1 }] };
        JobStatus status = await WhileAnotherJobRunsAsync(job, () => TrainUploadedAsync(job, spec, [("a.pgm", Pgm(16, 1)), ("tiny.pgm", Pgm(8, 2))]));

        AssertFailed(status, "tiny.pgm", "layers.filterSize = 11");
        Assert.Equal("layers.filterSize", status.ErrorField);
    }

    [Fact]
    public async Task Submit_ZeroMaps_RejectedNamingMaps()
    {
        const string job = "bad-zero-maps";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small() with { Layers = [new LayerSpec { Maps = 0 }] }));

        AssertRejected(plan, job, "layers.maps", "layers.maps = 0");
    }

    [Fact]
    public async Task Submit_NegativeEpochs_RejectedNamingEpochs()
    {
        // 0 epochs is valid (the random start, --epochs 0); below that is not.
        const string job = "bad-negative-epochs";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small() with { Layers = [new LayerSpec { Maps = 3, Epochs = -1 }] }));

        AssertRejected(plan, job, "layers.epochs", "layers.epochs = -1");
    }

    [Fact]
    public async Task JobCommands_UnknownJobId_UserErrorNamingTheId()
    {
        // What status, watch, fetch and cancel call; the console prints a UserException as one line with exit code 2.
        const string job = "never-submitted";
        var (status, follow, result, malformed, cancel) = await WhileAnotherJobRunsAsync("bad-unknown-id", async () => (
            await Assert.ThrowsAsync<UserException>(() => JobWatcher.StatusAsync(fixture.Grains, job)),
            await Assert.ThrowsAsync<UserException>(() => JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None)),
            await Assert.ThrowsAsync<UserException>(() => JobWatcher.ResultAsync(fixture.Grains, job)),
            await Assert.ThrowsAsync<UserException>(() => JobWatcher.StatusAsync(fixture.Grains, "../etc")),
            await Job(job).CancelAsync()));

        foreach (UserException e in (UserException[])[status, follow, result]) Assert.Contains($"no job '{job}'", e.Message);
        Assert.Contains("'../etc' is not a job id", malformed.Message);
        Assert.Equal(JobState.Unknown, cancel.State);
        Assert.Null(await Job(job).GetResultAsync());
        Assert.Equal(JobState.Unknown, (await Job(job).GetStatusAsync()).State);
    }

    [Fact]
    public async Task Submit_JobIdAlreadyRunning_RejectedAndTheRunningJobIsUntouched()
    {
        // The bystander is the job whose id is reused: it must finish exactly as if nobody had tried.
        const string bystander = "bad-duplicate-id";
        JobPlan plan = await WhileAnotherJobRunsAsync(bystander, () => SubmitAsync(BystanderId(bystander), Small()));

        AssertRejected(plan, BystanderId(bystander), "job", "already exists (running)");
    }

    [Theory]
    [InlineData("../outside", "parent")]
    [InlineData("/etc", "absolute")]
    [InlineData("good/../../outside", "climb")]
    public async Task Submit_ImagesOnSiloOutsideDataRoot_Refused(string path, string kind)
    {
        string job = $"bad-outside-root-{kind}";
        JobPlan plan = await WhileAnotherJobRunsAsync(job, () => SubmitAsync(job, Small(), dataPath: path));

        AssertRejected(plan, job, "data-path", "outside the data root");
        Assert.Equal(JobState.Unknown, (await Job(job).GetStatusAsync()).State);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("redis")]
    public async Task JobCommand_UnreachableCluster_OneLineNamingTheCluster(string kind)
    {
        int port = FreePort();
        string cluster = kind == "localhost" ? $"localhost:{port}" : $"redis://127.0.0.1:{port}";
        var (exit, error) = await WhileAnotherJobRunsAsync($"bad-unreachable-{kind}", () =>
            RunConsoleAsync(["status", "some-job", "--cluster", cluster, "--connect-attempts", "1"]));

        AssertOneLineError(exit, error, "status", $"127.0.0.1:{port}", kind == "localhost" ? "cannot reach the cluster" : "Redis");
    }

    /// <summary>
    /// Runs <paramref name="badInput"/> while a bystander job is held in its second epoch, then checks the silos are
    /// all still active and the bystander finishes with the serial engine's result.
    /// </summary>
    private async Task<T> WhileAnotherJobRunsAsync<T>(string row, Func<Task<T>> badInput)
    {
        string bystander = BystanderId(row);
        TestShardGate.Hold hold = TestShardGate.Instance.HoldInference(bystander, layer: 0, epoch: 1);
        Task<EngineRun> run = new DistributedEngine(fixture.Grains, BadInputCluster.Limits, 0, "bad-input cluster") { JobId = bystander }
            .TrainAsync(BadInputCluster.BystanderSpec, new ImageInput(fixture.BystanderImages, ImageLoadOptions.Default, 0), new Oracle.NullObserver(), CancellationToken.None);
        await Task.WhenAny(hold.Reached, run).WaitAsync(Patience);
        Assert.True(hold.Reached.IsCompleted, $"bystander {bystander} never reached epoch 2: {(run.IsFaulted ? run.Exception!.GetBaseException().Message : run.Status)}");
        T outcome;
        try
        {
            outcome = await badInput().WaitAsync(Patience);
        }
        finally
        {
            hold.Release();
        }

        Dictionary<SiloAddress, SiloStatus> hosts = await fixture.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.True(hosts.Count == BadInputCluster.Silos, $"after '{row}': {hosts.Count} of {BadInputCluster.Silos} silos active");
        EngineRun done = await run.WaitAsync(Patience);
        TrainingResult expected = await fixture.BystanderOracle;
        Assert.Equal(expected.Metrics.Select(m => m.Objective), done.Result.Metrics.Select(m => m.Objective), new RelativeComparer(1e-5));
        float[] want = expected.Layers[0].Filters.Data, got = done.Result.Layers[0].Filters.Data;
        Assert.True(want.Zip(got).All(p => Math.Abs(p.First - p.Second) <= 1e-4f), $"after '{row}': the bystander's filters differ from the serial run");
        return outcome;
    }

    private static string BystanderId(string row) => $"{row}-bystander";

    private ITrainingJobGrain Job(string job) => fixture.Grains.GetGrain<ITrainingJobGrain>(job);

    private Task<JobPlan> SubmitAsync(string job, TrainingSpec spec, string? dataPath = null) =>
        Job(job).SubmitAsync(new JobSubmission
        {
            Header = MessageHeader.ForJob(job),
            SpecJson = SpecWire.Serialize(spec),
            ImageNames = dataPath is null ? ["a.pgm"] : [],
            DataPath = dataPath,
        });

    /// <summary>A job whose images the silos read from their data root; its final status.</summary>
    private async Task<JobStatus> TrainOnSiloAsync(string job, TrainingSpec spec, string dataPath)
    {
        JobPlan plan = await SubmitAsync(job, spec, dataPath);
        Assert.True(plan.Accepted, $"{job}: {plan.Error}");
        await Job(job).StartAsync(MessageHeader.ForJob(job));
        return await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None);
    }

    /// <summary>A job whose image bytes go straight to its shards, as any client could send them; its final status.</summary>
    private async Task<JobStatus> TrainUploadedAsync(string job, TrainingSpec spec, (string Name, byte[] Bytes)[] images, int shards = 0, long maxPixels = 16_000_000)
    {
        var header = MessageHeader.ForJob(job);
        JobPlan plan = await Job(job).SubmitAsync(new JobSubmission
        {
            Header = header,
            SpecJson = SpecWire.Serialize(spec),
            ImageNames = [.. images.Select(i => i.Name)],
            Shards = shards,
            MaxPixels = maxPixels,
        });
        Assert.True(plan.Accepted, $"{job}: {plan.Error}");
        for (int s = 0; s < plan.Shards.Length; s++)
            await fixture.Grains.GetGrain<IImageShardGrain>(plan.ShardKeys[s]).AddImagesAsync(new ImageBatch
            {
                Header = header,
                Images = [.. plan.Shards[s].Select(i => new ShardImage { Index = i, Name = images[i].Name, Content = Payload.FromInline(images[i].Bytes) })],
            });
        await Job(job).StartAsync(header);
        return await JobWatcher.FollowAsync(fixture.Grains, job, _ => { }, CancellationToken.None);
    }

    private static async Task<(int Exit, string Error)> RunConsoleAsync(string[] args)
    {
        var error = new StringWriter();
        int exit = await CommandCatalog.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        return (exit, error.ToString());
    }

    private static void AssertFailed(JobStatus status, params string[] expected)
    {
        Assert.True(status.State == JobState.Failed, $"job {status.Job}: expected Failed, got {status.State}");
        foreach (string text in expected) Assert.Contains(text, status.Error ?? "");
        // The coordinator logs the failure under the job's id, with the same message the user sees.
        LogRecorder.Entry failed = Assert.Single(LogRecorder.Instance.ForJob(status.Job), e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.Contains(status.Error ?? "", failed.Message);
        Assert.NotNull(failed.Exception);
    }

    private static void AssertRejected(JobPlan plan, string job, string field, string expected)
    {
        Assert.False(plan.Accepted, $"{job} was accepted");
        Assert.Equal(field, plan.Field);
        Assert.Contains(expected, plan.Error ?? "");
    }

    private static void AssertOneLineError(int exit, string error, string command, params string[] expected)
    {
        Assert.Equal(2, exit);
        string line = error.Trim();
        Assert.StartsWith($"{command}: ", line);
        Assert.DoesNotContain('\n', line);
        foreach (string text in expected) Assert.True(line.Contains(text, StringComparison.Ordinal), $"'{text}' is not in: {line}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static byte[] Pgm(int size, int seed) => Netpbm("P5", size, 1, seed);

    private static byte[] Ppm(int size, int seed) => Netpbm("P6", size, 3, seed);

    private static byte[] Netpbm(string magic, int size, int channels, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[size * size * channels];
        rng.NextBytes(pixels);
        return [.. Encoding.ASCII.GetBytes($"{magic}\n{size} {size}\n255\n"), .. pixels];
    }

    private sealed class RelativeComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(Math.Abs(x), Math.Abs(y));

        public int GetHashCode(double obj) => 0;
    }
}

/// <summary>
/// A 2-silo TestingHost cluster for the bad-input tests: a data root with a good, a corrupt and an empty folder, the
/// shard gate that holds bystander jobs, and the serial result every bystander must reproduce.
/// </summary>
public sealed class BadInputCluster : IAsyncLifetime
{
    public const int Silos = 2;

    public static MessageLimits Limits { get; } = new(ClusterFixture.MaxMessageBytes);

    public static TrainingSpec BystanderSpec { get; } = new()
    {
        Layers = [new LayerSpec { Maps = 4, FilterSize = 5, Epochs = 2 }],
        Seed = 9,
    };

    /// <summary>Shared with the silos through a static: TestingHost builds them from configurator types.</summary>
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "distributed-tests", $"bad-input-root-{Environment.ProcessId}");

    /// <summary>The silos' own pixel limit: above every image the other tests use (16×16), below 20×20.</summary>
    public const int SiloMaxPixels = 300;

    private static readonly string Outside = Root + "-outside-passwd";

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public string DataRoot { get; } = Root;

    public string[] BystanderImages { get; } = TestImages.Write("bad-input-bystander", count: 3, size: 16, seed: 5);

    public Task<TrainingResult> BystanderOracle { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "corrupt"));
        Directory.CreateDirectory(Path.Combine(Root, "empty"));
        Directory.CreateDirectory(Path.Combine(Root, "good"));
        File.WriteAllBytes(Path.Combine(Root, "good", "a.pgm"), BadInputTests.Pgm(16, 1));
        File.WriteAllBytes(Path.Combine(Root, "corrupt", "good.pgm"), BadInputTests.Pgm(16, 1));
        File.WriteAllBytes(Path.Combine(Root, "corrupt", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]);
        // A folder whose second "image" is a link to a file outside the root (an /etc/passwd stand-in).
        Directory.CreateDirectory(Path.Combine(Root, "linked"));
        File.WriteAllBytes(Path.Combine(Root, "linked", "a.pgm"), BadInputTests.Pgm(16, 1));
        File.WriteAllText(Outside, "root:x:0:0:root:/root:/bin/bash\n");
        File.CreateSymbolicLink(Path.Combine(Root, "linked", "passwd.pgm"), Outside);
        BystanderOracle = Oracle.TrainAsync(BystanderSpec, BystanderImages, shards: Silos);

        var builder = new TestClusterBuilder(Silos);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Directory.Delete(Root, recursive: true);
        File.Delete(Outside);
    }

    private static DistributedHostOptions Options => ClusterFixture.Options with { DataRoot = Root, MaxPixels = SiloMaxPixels };

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddSingleton<IShardWorkGate>(TestShardGate.Instance);
            siloBuilder.Services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(LogRecorder.Instance);
            siloBuilder.AddDistributedRuntime(Options);
            siloBuilder.UseInMemoryReminderService();
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddDistributedClientRuntime(Options);
    }
}

[CollectionDefinition(Name)]
public sealed class BadInputCollection : ICollectionFixture<BadInputCluster>
{
    public const string Name = "bad-input cluster";
}
