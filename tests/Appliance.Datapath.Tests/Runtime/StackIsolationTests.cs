using System.Buffers.Binary;
using Appliance.Config;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>No reads across programs, through the real datapath: tenant 0's peer program (secret_writer) fills its
/// stack with a secret; tenant 1's (stack_reader) then reads its own uninitialised stack on the same forwarding
/// worker and must not find it (Programs/stack_leak.bpf.c).</summary>
[Collection(KernelCollection.Name)]
public sealed class StackIsolationTests
{
    private const int Frames = 5;

    [PrivilegedFact]
    public void AProgramOnAnotherPairDoesNotSeeTheSecretLeftOnTheStack()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        ProgramConfig Program(string name) => new() { Name = name, Object = "stack_leak.bpf.o", Section = $"tc/{name}" };
        var rt = board.Start([board.Port(0)],
            [board.Pair(0, peer: MetaBoard.Side(chain: "secret_writer")), board.Pair(1, peer: MetaBoard.Side(chain: "stack_reader"))],
            [Program("secret_writer"), Program("stack_reader")]);
        var leak = rt.Programs["stack_reader"].Object.FindMap("leak")!;
        ulong Slot(int key)
        {
            var k = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(k, key);
            var v = new byte[8];
            Assert.True(leak.TryLookupFromUser(k, v));
            return BinaryPrimitives.ReadUInt64LittleEndian(v);
        }

        for (int round = 0; round < 3; round++) // writer, reader, writer, reader, ...
        {
            Assert.Equal(Frames, board.FromTenant(0, 0, Frames, out _).Count);
            Eventually.Equal(Frames * (round + 1), () => (long)Slot(0), "secret_writer runs");
            Assert.Equal(Frames, board.FromTenant(1, 0, Frames, out _).Count);
            Eventually.Equal(Frames * (round + 1), () => (long)Slot(1), "stack_reader runs");
        }
        Assert.Equal(0UL, Slot(2)); // words of the secret stack_reader found on its stack
    }
}
