using Appliance.Bpf.Objects;
using Appliance.Bpf.Oracle;
using Appliance.Datapath.Links;
using Appliance.Datapath.Routing;
using Appliance.Datapath.Tests.Runtime;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Routing;

/// <summary>bpf_fib_lookup over the appliance's own view of the board's tables — <see cref="KernelTables"/>, the
/// rtnetlink dumps the datapath reads — against the kernel's bpf_fib_lookup on the same namespace
/// (<see cref="FibLookupDifferential"/>: every route kind, tables, metrics, MTUs, sources, neighbours, and
/// BPF_FIB_LOOKUP_OUTPUT passing over routes through another interface for the next by metric and then shorter
/// prefixes). Every query's return code and the whole struct afterwards must agree.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelTablesFibDifferentialTests(ITestOutputHelper output)
{
    [PrivilegedFact]
    public void FibLookupOverKernelTablesAnswersAsTheKernelDoes()
    {
        using var ns = new NetNamespace("kfib");
        FibLookupDifferential.Build(ns);
        int v0, d1, d2;
        using (var links = new LinkManager(ns.Name))
        {
            v0 = links.Get("v0").Index;
            d1 = links.Get("d1").Index;
            d2 = links.Get("d2").Index;
        }
        using var tables = NetworkNamespace.RunInside(ns.Name, () => new KernelTables());
        var obj = BpfObjectLoader.Load(Path.Combine(TestObjects.Directory, "routing_helpers.bpf.o"));
        var result = FibLookupDifferential.Compare(ns.Name, obj, tables, jit: false, v0, d1, d2);
        output.WriteLine(result.Summary);
        Assert.True(result.Mismatches.Count == 0, result.Describe());
        Assert.Empty(result.Unmet);
    }
}
