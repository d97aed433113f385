using System.Buffers.Binary;
using Appliance.Datapath.Capture;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Capture;

/// <summary>Our pcapng writer and pcap/pcapng reader against each other and against real readers (tcpdump, tshark).</summary>
public sealed class CaptureFileTests
{
    private static byte[] Frame(int length, byte fill)
    {
        var f = new byte[length];
        f.AsSpan().Fill(fill);
        f[12] = 0x08; // IPv4 ethertype, so readers show something sensible
        f[13] = 0x00;
        return f;
    }

    private static byte[] WriteSample()
    {
        var ms = new MemoryStream();
        using (var w = new PcapngWriter(ms, "test", 4096, leaveOpen: true))
        {
            int a = w.AddInterface("eth0");
            int b = w.AddInterface("tenant-a/peer", "the peer side");
            w.WritePacket(a, 1_700_000_000_123_456_789, Frame(60, 1), 60, PacketDirection.Inbound, "verdict=pass target=tenant-a");
            w.WritePacket(b, 1_700_000_001_000_000_000, Frame(64, 2), 1000, PacketDirection.Outbound, "verdict=drop reason=verdict");
            w.WritePacket(a, 1_700_000_002_000_000_000, Frame(61, 3), 61);
            w.WriteStatistics(a, 1_700_000_003_000_000_000, 3, 7);
        }
        return ms.ToArray();
    }

    [Fact]
    public void WhatTheWriterWritesTheReaderReadsBack()
    {
        var file = CaptureFileReader.Read(new MemoryStream(WriteSample()));
        Assert.Equal(["eth0", "tenant-a/peer"], file.Interfaces.Select(i => i.Name));
        Assert.Equal([4096u, 4096u], file.Interfaces.Select(i => i.SnapLength));
        Assert.Equal(3, file.Records.Count);
        var r = file.Records;
        Assert.Equal((0, 1_700_000_000_123_456_789L, PacketDirection.Inbound, "verdict=pass target=tenant-a"),
            (r[0].Interface, r[0].TimestampNanoseconds, r[0].Direction, r[0].Comment));
        Assert.Equal(Frame(60, 1), r[0].Data);
        Assert.Equal((1, 1000, PacketDirection.Outbound, "verdict=drop reason=verdict"), (r[1].Interface, r[1].OriginalLength, r[1].Direction, r[1].Comment));
        Assert.Equal((PacketDirection.Unknown, (string?)null, 61), (r[2].Direction, r[2].Comment, r[2].Data.Length));
    }

    [Fact]
    public void ClassicPcapInBothByteOrdersAndResolutionsIsRead()
    {
        foreach (var (big, nanos) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var ms = new MemoryStream();
            void U32(uint v)
            {
                var b = new byte[4];
                if (big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
                ms.Write(b);
            }
            void U16(ushort v)
            {
                var b = new byte[2];
                if (big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
                ms.Write(b);
            }
            U32(nanos ? 0xa1b23c4du : 0xa1b2c3d4u); U16(2); U16(4); U32(0); U32(0); U32(65535); U32(1);
            var frame = Frame(42, 9);
            U32(100); U32(250); U32(42); U32(50); ms.Write(frame);
            var file = CaptureFileReader.Read(new MemoryStream(ms.ToArray()));
            var r = Assert.Single(file.Records);
            Assert.Equal(frame, r.Data);
            Assert.Equal(50, r.OriginalLength);
            Assert.Equal(100_000_000_000L + (nanos ? 250 : 250_000), r.TimestampNanoseconds);
            Assert.Equal(CaptureFile.LinkTypeEthernet, file.Interfaces[0].LinkType);
        }
    }

    [Fact]
    public void CutShortOrForeignFilesAreRefusedWithWhere()
    {
        var good = WriteSample();
        var cut = Assert.Throws<CaptureFormatException>(() => CaptureFileReader.Read(new MemoryStream(good[..(good.Length - 10)])));
        Assert.Contains("byte", cut.Message);
        Assert.Throws<CaptureFormatException>(() => CaptureFileReader.Read(new MemoryStream("hello world, not a capture"u8.ToArray())));
        var badLength = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badLength.AsSpan(4), 13); // the section header's length, not a multiple of 4
        Assert.Throws<CaptureFormatException>(() => CaptureFileReader.Read(new MemoryStream(badLength)));
    }

    [Fact]
    public void TcpdumpAndTsharkReadOurFileWithDirectionsAndComments()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mapp-pcapng-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(path, WriteSample());
            var tcpdump = Shell.Check("tcpdump", "-nr", path);
            Assert.Equal(3, tcpdump.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            var fields = Shell.Check("tshark", "-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.len", "-e", "frame.comment")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, fields.Length);
            Assert.StartsWith("eth0\t60\tverdict=pass target=tenant-a", fields[0]);
            Assert.StartsWith("tenant-a/peer\t1000\tverdict=drop reason=verdict", fields[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
