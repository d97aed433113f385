using System.Buffers.Binary;
using System.Net;

namespace Appliance.Host.Tests.Board;

/// <summary>ARP (Ethernet/IPv4) requests and replies: what a neighbour on the wire sends to find a tenant.</summary>
public static class ArpFrame
{
    public const ushort EtherType = 0x0806;

    public static byte[] Request(byte[] senderMac, IPAddress senderIp, IPAddress targetIp)
    {
        var f = new byte[60];
        for (var i = 0; i < 6; i++) f[i] = 0xff;
        senderMac.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherType);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14), 1);        // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), 0x0800);   // IPv4
        f[18] = 6; f[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(20), 1);        // request
        senderMac.CopyTo(f, 22);
        senderIp.GetAddressBytes().CopyTo(f, 28);
        targetIp.GetAddressBytes().CopyTo(f, 38);
        return f;
    }

    /// <summary>True for an ARP reply telling <paramref name="askerMac"/> where <paramref name="ip"/> is; yields the MAC.</summary>
    public static bool IsReplyFor(byte[] frame, byte[] askerMac, IPAddress ip, out byte[] mac)
    {
        mac = [];
        if (frame.Length < 42 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != EtherType) return false;
        if (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(20)) != 2) return false;
        if (!frame.AsSpan(0, 6).SequenceEqual(askerMac) || !frame.AsSpan(28, 4).SequenceEqual(ip.GetAddressBytes())) return false;
        mac = frame[22..28];
        return true;
    }

    /// <summary>Asks <paramref name="port"/>'s wire where <paramref name="target"/> is, up to <paramref name="attempts"/>
    /// times, waiting <paramref name="wait"/> (3 s) for each reply; true with the answering MAC.</summary>
    public static bool Ask(BoardPort port, byte[] asker, IPAddress askerIp, IPAddress target, int attempts, out byte[] mac, TimeSpan? wait = null)
    {
        mac = [];
        for (var i = 0; i < attempts; i++)
        {
            port.Drain();
            port.Send(Request(asker, askerIp, target));
            foreach (var f in port.Receive(wait ?? TimeSpan.FromSeconds(3), got => got.Any(f => IsReplyFor(f, asker, target, out _))))
                if (IsReplyFor(f, asker, target, out mac)) return true;
        }
        mac = [];
        return false;
    }
}
