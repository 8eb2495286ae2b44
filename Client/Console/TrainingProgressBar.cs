using System.Globalization;
using Distributed.Compute.Training;
using Spectre.Console;

namespace Distributed.Client.Console;

/// <summary>
/// A Spectre.Console progress bar fed by the trainer's progress: layer, epoch, objective, images/s and time left.
/// On a redirected console Spectre prints plain percentage lines instead.
/// </summary>
internal sealed class TrainingProgressBar : ITrainingObserver
{
    private ProgressTask? _task;

    /// <summary>Runs <paramref name="work"/> under a progress bar drawn on <paramref name="output"/> (the command's stdout).</summary>
    public static async Task<T> RunAsync<T>(TextWriter output, string title, Func<ITrainingObserver, Task<T>> work)
    {
        var bar = new TrainingProgressBar();
        // A console of this command's own: the global AnsiConsole allows one live display per process, and a test
        // host (or any embedding) may run several commands at once.
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                bar._task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                try
                {
                    return await work(bar);
                }
                finally
                {
                    bar._task.StopTask();
                }
            });
    }

    public static string Describe(TrainingProgress p)
    {
        string objective = p.Last is null ? "" : string.Create(CultureInfo.InvariantCulture, $"  E={p.Last.Objective:G5}{Change(p.Last.RelativeChange)}  nz={p.Last.NonzeroFraction:P1}");
        string rate = p.ImagesPerSecond > 0 ? string.Create(CultureInfo.InvariantCulture, $"  {p.ImagesPerSecond:F1} img/s") : "";
        return $"layer {p.Layer}/{p.Layers}  epoch {p.Epoch}/{p.Epochs}{objective}{rate}";
    }

    /// <summary>The objective's relative decrease per epoch over the convergence window, once known (what --tolerance compares).</summary>
    private static string Change(double relative) =>
        double.IsNaN(relative) ? "" : string.Create(CultureInfo.InvariantCulture, $"  ΔE/E={relative:0.0e+0}");

    public void OnProgress(TrainingProgress progress)
    {
        if (_task is null) return;
        _task.Description = Markup.Escape(Describe(progress));
        _task.Value = progress.Fraction;
    }

    public ValueTask OnCheckpointAsync(TrainingCheckpoint checkpoint, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
