using System.Net;
using System.Net.Sockets;
using Distributed.Grains.Abstractions.Jobs;
using Distributed.Grains.Hosting;
using Distributed.Grains.Hosting.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distributed.Grains.Tests.Hosting;

/// <summary>
/// A real silo (localhost clustering, loopback ports) with a cluster secret, and external clients that hold it, hold
/// another, or hold none: only the first may connect; the others are refused at the gateway before Orleans reads a
/// byte. Also: the ports bind loopback only.
/// </summary>
public sealed class ClusterSecretTests : IAsyncLifetime
{
    private const string Secret = "correct-horse-battery-staple-1234";

    private DistributedHostOptions _silo = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        (int siloPort, int gatewayPort) = FreePorts();
        _silo = new DistributedHostOptions
        {
            SiloPort = siloPort,
            GatewayPort = gatewayPort,
            PrimarySiloPort = siloPort,
            ClusterId = $"secret-{Guid.NewGuid():N}"[..20],
            Secret = Secret,
            ComputeSlots = 1,
        };
        _host = SiloHost.Build(_silo, quiet: true);
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    [Fact]
    public async Task Connect_ClientWithTheSecret_CallsGrains()
    {
        using IHost client = await ConnectAsync(Secret);

        IJobRegistryGrain registry = client.Services.GetRequiredService<IClusterClient>().GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key);
        Assert.Empty(await registry.ListAsync());
    }

    [Fact]
    public async Task Connect_ClientWithAnotherSecret_IsRefused()
    {
        var refusals = new SecretRefusals();
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync("a-different-secret-of-some-length", refusals));

        Assert.Contains("refused this process's cluster secret", refusals.Last);
    }

    [Fact]
    public async Task Connect_ClientWithoutSecret_IsRefused()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(null));
    }

    [Fact]
    public async Task Handshake_WrongProofOnRawSocket_RefusedAndClosed()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, _silo.GatewayPort);
        NetworkStream stream = socket.GetStream();
        byte[] challenge = new byte[36];
        await stream.ReadExactlyAsync(challenge);
        await stream.WriteAsync(new byte[32]);

        byte[] answer = new byte[1];
        await stream.ReadExactlyAsync(answer);
        Assert.Equal(0, answer[0]);
        // Then the silo closes the connection: the next read sees its end.
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Listen_LocalhostClustering_BindsLoopbackOnly()
    {
        // All of 127/8 reaches this machine, but a socket bound to 127.0.0.1 answers on that address alone.
        Assert.True(await AcceptsAsync(IPAddress.Loopback, _silo.GatewayPort));
        Assert.False(await AcceptsAsync(IPAddress.Parse("127.0.0.2"), _silo.GatewayPort));
        Assert.False(await AcceptsAsync(IPAddress.Parse("127.0.0.2"), _silo.SiloPort));
    }

    [Fact]
    public void Build_NonLoopbackWithoutSecret_RefusedUnlessInsecure()
    {
        DistributedHostOptions open = _silo with { Secret = null, ListenAddress = "0.0.0.0" };

        var e = Assert.Throws<HostOptionsException>(() => SiloHost.Build(open, quiet: true).Dispose());
        Assert.Equal("secret-file", e.Field);
        SiloHost.Build(open with { Insecure = true }, quiet: true).Dispose();
    }

    private async Task<IHost> ConnectAsync(string? secret, SecretRefusals? refusals = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(c => c.UseDistributedClient(_silo with { Secret = secret, ConnectAttempts = 1, ConnectRetryDelaySeconds = 0 }));
        IHost host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return host;
        }
        catch
        {
            if (refusals is not null && host.Services.GetService<SecretRefusals>()?.Last is { } last) refusals.Note(last);
            host.Dispose();
            throw;
        }
    }

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var probe = new TcpClient();
        try
        {
            await probe.ConnectAsync(address, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int Silo, int Gateway) FreePorts()
    {
        using var a = new TcpListener(IPAddress.Loopback, 0);
        using var b = new TcpListener(IPAddress.Loopback, 0);
        a.Start();
        b.Start();
        return (((IPEndPoint)a.LocalEndpoint).Port, ((IPEndPoint)b.LocalEndpoint).Port);
    }
}
