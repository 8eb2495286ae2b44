using System.Diagnostics;
using System.Diagnostics.Metrics;
using Distributed.Client.Engines;
using Distributed.Compute.Training;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Client.Bench;

/// <summary>
/// The same training job on two engines, timed in one process run, with the payload bytes the grains send (counted by
/// the product's <c>distributed.bytes.sent</c> counter, which an in-process silo reports to this process).
/// </summary>
internal static class EngineOverhead
{
    public sealed record Measurement(string Engine, double Seconds, long BytesSent, int Epochs, double FinalObjective);

    public static async Task<Measurement> MeasureAsync(ITrainingEngine engine, TrainingSpec spec, ImageInput input, CancellationToken cancellationToken)
    {
        long bytes = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TelemetryNames.Source && instrument.Name == TelemetryNames.Instruments.BytesSent) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref bytes, value));
        listener.Start();
        var clock = Stopwatch.StartNew();
        EngineRun run = await engine.TrainAsync(spec, input, new Silent(), cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        return new Measurement(engine.Name, seconds, Interlocked.Read(ref bytes), run.Result.Metrics.Count, run.Result.Metrics[^1].Objective);
    }

    private sealed class Silent : ITrainingObserver
    {
        public void OnProgress(TrainingProgress progress)
        {
        }

        public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
