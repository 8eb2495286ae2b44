namespace Distributed.EndToEnd.Tests.Support;

/// <summary>
/// A test that needs <c>redis-server</c> (Redis membership and grain storage that outlive a killed silo). Where the
/// binary is missing it is skipped, by name and with the reason in the runner's output; under CI (<c>CI=true</c>,
/// whose <c>.ci/run</c> installs Redis) it is never skipped, so a missing server fails it instead of passing quietly.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (Programs.RedisServer is null && !RunningInCi)
            Skip = "redis-server is not on the PATH (apt-get install redis-server); CI installs it and runs this test.";
    }

    /// <summary>True under CI, where every service the tests need must be there.</summary>
    public static bool RunningInCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Fails the running test when Redis is missing (only reachable under CI, where the attribute does not skip).</summary>
    public static void RequireRedis()
    {
        if (Programs.RedisServer is null)
            Assert.Fail("redis-server is required under CI (CI=true) but is not on the PATH: .ci/run must install it.");
    }
}
