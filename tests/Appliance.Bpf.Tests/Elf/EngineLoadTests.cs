using Appliance.Bpf.Tests.Kernel;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Every object the loader parses (examples and test programs) is accepted by the engine's
/// verifier with live maps — no root needed — and each program runs to a verdict without a fault.</summary>
public class EngineLoadTests
{
    [Theory]
    [MemberData(nameof(KernelLoadTests.AllObjects), MemberType = typeof(KernelLoadTests))]
    public void EveryObjectVerifiesAndRunsInTheEngine(string name)
    {
        var obj = KernelLoadTests.LoadAny(name);
        using var engine = new EngineObject(obj);
        var frame = PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 53, 21);
        foreach (var prog in obj.Programs)
        {
            var r = engine.Run(prog.Name, frame);
            Assert.False(r.Run.Faulted, $"{name}/{prog.Name}: {r.Run.Fault} at instruction {r.Run.FaultInstruction}");
            Assert.True(r.Run.InstructionsExecuted > 0);
        }
    }
}
