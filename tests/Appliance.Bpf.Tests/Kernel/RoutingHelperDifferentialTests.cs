using System.Buffers.Binary;
using System.Net;
using Appliance.Bpf.Oracle;
using Appliance.Bpf.Routing;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Tests.Routing;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>bpf_fib_lookup against the kernel's (<see cref="FibLookupDifferential"/>): the engine reads the namespace's
/// tables as <c>ip -j</c> prints them (<see cref="IpCommandTables"/>). The same differential over the appliance's own
/// rtnetlink snapshot is KernelTablesFibDifferentialTests in the Datapath tests.</summary>
[Collection(KernelCollection.Name)]
public sealed class RoutingHelperDifferentialTests(ITestOutputHelper output)
{
    [PrivilegedTheory]
    [InlineData("interpreter")]
    [InlineData("jit")]
    public void FibLookupAnswersAsTheKernelDoes(string engineName)
    {
        using var ns = new NetNamespace("fib");
        FibLookupDifferential.Build(ns);
        var tables = IpCommandTables.Read(ns, out var ifindex);
        var result = FibLookupDifferential.Compare(ns.Name, TestObjects.LoadTestProgram("routing_helpers"), tables,
            jit: engineName == "jit", ifindex["v0"], ifindex["d1"], ifindex["d2"]);
        output.WriteLine($"{engineName}: {result.Summary}");
        Assert.True(result.Mismatches.Count == 0, result.Describe());
        Assert.Empty(result.Unmet);
    }

    /// <summary>BPF_FIB_LOOKUP_MARK is refused (policy rules are not read): -EINVAL at run time.</summary>
    [Fact]
    public void MarkFlagIsRefusedAtRunTime()
    {
        var tables = new InMemoryFibTables();
        tables.SetInterface(2, new FibInterface { Mtu = 1500, Up = true, Forwarding4 = true });
        tables.AddRoute(254, IpFamily.Inet, [0, 0, 0, 0], 0, new FibRoute { Kind = RouteKind.Unicast, Ifindex = 2 });
        var obj = TestObjects.LoadTestProgram("routing_helpers");
        using var engine = new EngineObject(obj, fibTables: tables);
        foreach (uint flags in (uint[])[FibLookupDifferential.SkipNeigh, FibLookupDifferential.SkipNeigh | FibLookupDifferential.Mark])
        {
            var value = new byte[72];
            FibLookupDifferential.Params(IpFamily.Inet, IPAddress.Parse("192.0.2.1"), null, 2, 0, 0).CopyTo(value, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(64), flags);
            BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(68), 64);
            Assert.Equal(0, engine.Map("query").UpdateFromUser(new byte[4], value, 0));
            engine.Run("fib_probe", PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [192, 0, 2, 1], 1, 2, 10));
            long rc = BinaryPrimitives.ReadInt64LittleEndian(engine.Dump("answer").Single().Value);
            Assert.Equal((flags & FibLookupDifferential.Mark) != 0 ? -22 : 0, rc);
        }
    }
}
