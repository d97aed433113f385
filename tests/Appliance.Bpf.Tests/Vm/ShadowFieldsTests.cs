using Appliance.Bpf.Context;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>A compiled run writes only the shadow fields its code reads (<see cref="ShadowFields"/>): the flag a field's
/// offset maps to (<see cref="SkBuffShadow.FieldsAt"/>) must be the one under which <see cref="SkBuffShadow.Fill"/> writes
/// it, and the packet fields it reads must be in the group (<see cref="ShadowFields.PacketExtent"/>,
/// <see cref="ShadowFields.PacketMeta"/>) <see cref="SkBuffShadow.UpdatePacketFields"/> writes them under, or code would
/// read a field no one wrote this run.</summary>
public sealed class ShadowFieldsTests
{
    private static PacketContext DistinctPacket()
    {
        var packet = PacketContext.FromArray(new byte[256], 64, 100);
        packet.Mark = 0x11111111;
        packet.Priority = 0x22222222;
        packet.IngressIfindex = 0x33333333;
        packet.Ifindex = 0x44444444;
        for (int i = 0; i < SkBuffLayout.CbCount; i++) packet.Cb[i] = 0x55555550u + (uint)i;
        packet.TcClassId = 0x6666;
        packet.TcIndex = 0x7777;
        packet.QueueMapping = 0x8888;
        packet.Tstamp = 0x99999999_aaaaaaaaUL;
        packet.PacketType = 2;
        packet.Protocol = 0x0800;
        packet.VlanPresent = true;
        packet.VlanTci = 0x0bcd;
        packet.VlanProto = 0x8100;
        packet.Hash = 0xcccccccc;
        return packet;
    }

    private static byte[] Written(ShadowFields fields)
    {
        var shadow = new byte[SkBuffLayout.Size];
        var packet = DistinctPacket();
        if ((fields & ShadowFields.Filled) != 0) SkBuffShadow.Fill(shadow, in packet, fields);
        if ((fields & ShadowFields.Packet) != 0) SkBuffShadow.UpdatePacketFields(shadow, in packet, 0x10000040, 0x10000040 + 100, fields);
        return shadow;
    }

    public static TheoryData<uint> EachPacketField()
    {
        var data = new TheoryData<uint>();
        for (int bit = 10; bit < 20; bit++) data.Add(1u << bit);
        return data;
    }

    /// <summary>A packet field is written under any flag of its group, and only its group's fields are.</summary>
    [Theory]
    [MemberData(nameof(EachPacketField))]
    public void EachPacketFieldIsWrittenWithItsGroupAndOnlyThat(uint flag)
    {
        var field = (ShadowFields)flag;
        var group = (ShadowFields.PacketExtent & field) != 0 ? ShadowFields.PacketExtent : ShadowFields.PacketMeta;
        Assert.Equal(ShadowFields.Packet, ShadowFields.PacketExtent | ShadowFields.PacketMeta);
        Assert.Equal(ShadowFields.None, ShadowFields.PacketExtent & ShadowFields.PacketMeta);
        Assert.True((group & field) == field);
        var shadow = Written(field);
        bool fieldWritten = false;
        for (int offset = 0; offset < shadow.Length; offset++)
        {
            if (shadow[offset] == 0) continue;
            var at = SkBuffShadow.FieldsAt(offset, 1);
            Assert.True((group & at) == at && at != ShadowFields.None, $"{at} written under {field}");
            fieldWritten |= at == field;
        }
        Assert.True(fieldWritten, $"{field} not written under its own flag");
    }

    public static TheoryData<uint> EachField()
    {
        var data = new TheoryData<uint>();
        for (int bit = 0; bit < 10; bit++) data.Add(1u << bit);
        return data;
    }

    [Theory]
    [MemberData(nameof(EachField))]
    public void EachFieldIsWrittenUnderItsOwnFlagAndOnlyThere(uint flag)
    {
        var field = (ShadowFields)flag;
        Assert.True((ShadowFields.All & field) == field);
        var shadow = Written(field);
        int written = 0;
        for (int offset = 0; offset < shadow.Length; offset++)
        {
            if (shadow[offset] == 0) continue;
            written++;
            Assert.Equal(field, SkBuffShadow.FieldsAt(offset, 1)); // a byte written under this flag maps back to it
        }
        Assert.True(written > 0, $"nothing written for {field}");
    }

    [Fact]
    public void EveryFieldARunWritesIsCoveredAndTheFullMaskWritesThemAll()
    {
        var filled = Written(ShadowFields.Filled);
        var packetFields = Written(ShadowFields.Packet);
        var full = new byte[SkBuffLayout.Size];
        var packet = DistinctPacket();
        SkBuffShadow.Fill(full, in packet);
        Assert.Equal(full, filled); // the mask of them all is the interpreter's fill
        for (int offset = 0; offset < full.Length; offset++)
        {
            if (filled[offset] != 0) Assert.Equal(ShadowFields.Filled & SkBuffShadow.FieldsAt(offset, 1), SkBuffShadow.FieldsAt(offset, 1));
            if (packetFields[offset] != 0) Assert.Equal(ShadowFields.Packet & SkBuffShadow.FieldsAt(offset, 1), SkBuffShadow.FieldsAt(offset, 1));
            if (packetFields[offset] != 0) Assert.NotEqual(ShadowFields.None, SkBuffShadow.FieldsAt(offset, 1));
        }
        Assert.Equal(ShadowFields.Cb, SkBuffShadow.FieldsAt(SkBuffLayout.Cb + 12, 4));
        Assert.Equal(ShadowFields.Tstamp, SkBuffShadow.FieldsAt(SkBuffLayout.Tstamp + 4, 4));
        Assert.Equal(ShadowFields.None, SkBuffShadow.FieldsAt(SkBuffLayout.NapiId, 4));
        Assert.Equal(ShadowFields.Data | ShadowFields.DataEnd, SkBuffShadow.FieldsAt(SkBuffLayout.Data, 8));
    }
}
