using StackExchange.Redis;

namespace Distributed.Grains.Hosting;

/// <summary>
/// The one place a Redis connection is described, for membership, grain storage and reminders alike: the connection
/// string plus the cluster secret as the password (unless the string names one), and reconnection that keeps trying
/// while Redis is away, backing off from a quarter second to two, so a silo or client is back within seconds of Redis.
/// </summary>
public static class RedisConnection
{
    public static ConfigurationOptions Options(DistributedHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConfigurationOptions redis = ConfigurationOptions.Parse(options.Redis ?? throw new HostOptionsException("no Redis connection string (--redis).", "redis"));
        if (string.IsNullOrEmpty(redis.Password) && options.Secret is { } secret) redis.Password = secret;
        redis.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);
        // An outage longer than a command's timeout fails that command (the storage layer retries it), not the connection.
        redis.AbortOnConnectFail = true;
        redis.ConnectRetry = 3;
        return redis;
    }
}
