using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Hosting;

/// <summary>
/// Builds the silo host the Silo program runs and the Client embeds: Orleans per <see cref="DistributedHostOptions"/>,
/// telemetry exporters, console logging. The generic host stops gracefully on SIGTERM / Ctrl+C.
/// </summary>
public static class SiloHost
{
    /// <param name="options">Validated host options.</param>
    /// <param name="quiet">Log warnings and errors only (an embedded silo under a progress bar).</param>
    /// <param name="configure">Extra silo configuration (tests).</param>
    public static IHost Build(DistributedHostOptions options, bool quiet = false, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.SetMinimumLevel(quiet ? LogLevel.Warning : LogLevel.Information);
        builder.Logging.AddFilter("Orleans", quiet ? LogLevel.Error : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // Orleans retries placements through Polly, which logs each retry (e.g. while the last silo shuts down).
        builder.Logging.AddFilter("Polly", LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            silo.UseDistributedSilo(options);
            configure?.Invoke(silo);
        });
        builder.Services.AddDistributedTelemetry(options, HostRole.Silo);
        return builder.Build();
    }

    /// <summary>
    /// Runs a silo until SIGTERM or Ctrl+C. A silo that cannot start (port in use, Redis unreachable) is a
    /// <see cref="SiloStartException"/> with the cause in one line.
    /// </summary>
    public static async Task<int> RunAsync(DistributedHostOptions options, CancellationToken cancellationToken = default)
    {
        using IHost host = Build(options);
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Exception cause = e;
            while (cause.InnerException is { } inner) cause = inner;
            string reason = cause.Message.ReplaceLineEndings(" ");
            // Redis appends advice about its own client options, which is no use to the operator of a silo.
            int advice = reason.IndexOf(" To allow this multiplexer", StringComparison.Ordinal);
            if (advice > 0) reason = reason[..advice];
            throw new SiloStartException($"the silo could not start (silo port {options.SiloPort}, gateway port {options.GatewayPort}): {reason}", e);
        }
        await host.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}

/// <summary>A silo failed to start; the message is one line for the operator.</summary>
public sealed class SiloStartException(string message, Exception inner) : Exception(message, inner);
