using System.Buffers.Binary;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>What the probe programs (Programs/probe.bpf.c) see, and what they are told to do, through their maps.</summary>
public sealed class ProbeMaps(ApplianceRuntime runtime, string anyProbeProgram)
{
    public const int A = 0, B = 1, C = 2;
    public const int Next = -1, Pass = 0, Drop = 2, Redirect = 7;

    private RuntimeObject Object => runtime.Programs[anyProbeProgram].Object;

    public void Act(int id, int verdict, int redirectIfindex = 0, uint redirectFlags = 0, uint mark = 0, uint priority = 0, uint cb0 = 0)
    {
        var v = new byte[24];
        BinaryPrimitives.WriteInt32LittleEndian(v, verdict);
        BinaryPrimitives.WriteInt32LittleEndian(v.AsSpan(4), redirectIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(v.AsSpan(8), redirectFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(v.AsSpan(12), mark);
        BinaryPrimitives.WriteUInt32LittleEndian(v.AsSpan(16), priority);
        BinaryPrimitives.WriteUInt32LittleEndian(v.AsSpan(20), cb0);
        var key = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(key, id);
        if (Object.FindMap("actions")!.UpdateFromUser(key, v, 0) != 0) throw new InvalidOperationException("actions update failed");
    }

    public Observation Seen(int id)
    {
        var key = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(key, id);
        var v = new byte[40];
        if (!Object.FindMap("seen")!.TryLookupFromUser(key, v)) throw new InvalidOperationException("seen lookup failed");
        uint U(int off) => BinaryPrimitives.ReadUInt32LittleEndian(v.AsSpan(off));
        return new Observation((long)BinaryPrimitives.ReadUInt64LittleEndian(v), U(8), U(12), U(16), U(20), U(24), U(28), U(32), U(36));
    }
}

public readonly record struct Observation(long Count, uint Mark, uint Priority, uint Ifindex, uint IngressIfindex, uint PacketType,
    uint Length, uint Cb0, uint Sequence);
