using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Distributed.Grains.Messaging.Telemetry;

namespace Distributed.Grains.Hosting;

/// <summary>Which kind of process exports: decides the default service name and whether runtime metrics are on.</summary>
public enum HostRole
{
    Silo,
    Client,
}

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Exports the product's spans and metrics (plus Orleans' grain-call spans, without which a trace stops at the
    /// first grain call) to OTLP or the console, per <see cref="DistributedHostOptions.EffectiveTelemetry"/>; nothing
    /// is registered for <see cref="TelemetryExporter.None"/>. Silos add .NET runtime metrics.
    /// </summary>
    public static IServiceCollection AddDistributedTelemetry(this IServiceCollection services, DistributedHostOptions options, HostRole role)
    {
        ArgumentNullException.ThrowIfNull(options);
        TelemetryExporter exporter = options.EffectiveTelemetry;
        if (exporter == TelemetryExporter.None) return services;

        string serviceName = options.ServiceName
            ?? Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")
            ?? (role == HostRole.Silo ? "distributed-silo" : "distributed-client");
        string instanceId = options.InstanceId ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        Uri? endpoint = options.OtlpEndpoint is { } e ? new Uri(e) : null;

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: instanceId))
            .WithTracing(tracing =>
            {
                tracing.AddSource(TelemetryNames.Source, TelemetryNames.OrleansApplicationSource);
                if (options.OrleansTelemetry) tracing.AddSource(TelemetryNames.OrleansRuntimeSource);
                if (exporter == TelemetryExporter.Console) tracing.AddConsoleExporter();
                else tracing.AddOtlpExporter(o => { if (endpoint is not null) o.Endpoint = endpoint; });
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetryNames.Source);
                if (options.OrleansTelemetry) metrics.AddMeter(TelemetryNames.OrleansMeter);
                if (role == HostRole.Silo) metrics.AddRuntimeInstrumentation();
                if (exporter == TelemetryExporter.Console) metrics.AddConsoleExporter();
                else metrics.AddOtlpExporter(o => { if (endpoint is not null) o.Endpoint = endpoint; });
            });
        return services;
    }
}
