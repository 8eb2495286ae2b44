using System.Reflection;
using Distributed.Compute.Tensors;

namespace Distributed.Compute.Tests;

public class PurityTests
{
    [Fact]
    public void ComputeAssembly_References_NoOrleansTelemetryOrHosting()
    {
        Assembly compute = typeof(Tensor3).Assembly;
        Assert.Equal("Distributed.Compute", compute.GetName().Name);
        string[] forbidden = ["Orleans", "OpenTelemetry", "Microsoft.Extensions.Hosting"];
        AssemblyName[] references = compute.GetReferencedAssemblies();
        Assert.NotEmpty(references); // it references at least the runtime, so an empty list would mean a broken probe
        foreach (AssemblyName reference in references)
            foreach (string prefix in forbidden)
                Assert.False(reference.Name!.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || reference.Name.Contains("." + prefix, StringComparison.OrdinalIgnoreCase),
                    $"Compute references {reference.Name}, which belongs to {prefix}; Compute must stay pure numerics.");
    }
}
