using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp;
using Appliance.Interop;

namespace Appliance.Datapath.Runtime;

/// <summary>The XDP side of one port: <see cref="ClaimedMacProgram"/> with its claimed-MAC hash map and its own
/// XSKMAP, attached with a bpf_link (detached by the kernel if the process dies). It replaces the generic
/// steering <see cref="Xsk.XskPortSet"/> attaches, in the same XDP mode. Dispose detaches and frees it.</summary>
public sealed class ClaimedMacSteering : IDisposable
{
    public const int MaxClaimed = 4096;

    private int _claimedFd = -1, _xskFd = -1, _progFd = -1, _linkFd = -1;

    public string InterfaceName { get; }
    public XdpAttachMode Mode { get; }

    private ClaimedMacSteering(string interfaceName, XdpAttachMode mode)
    {
        InterfaceName = interfaceName;
        Mode = mode;
    }

    public static ClaimedMacSteering Attach(string interfaceName, int ifindex, XdpAttachMode mode, bool dropUnclaimed)
    {
        var s = new ClaimedMacSteering(interfaceName, mode);
        try
        {
            s._claimedFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeHash, ClaimedMacProgram.KeySize, 4, MaxClaimed, "mapp_claimed");
            s._xskFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, XdpSteering.MapEntries, "mapp_xsks");
            s._progFd = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, ClaimedMacProgram.Build(s._claimedFd, s._xskFd, dropUnclaimed), "mapp_claimed");
            s._linkFd = BpfSyscall.CreateXdpLink(s._progFd, ifindex,
                mode == XdpAttachMode.Native ? XdpFlags.DrvMode : XdpFlags.SkbMode, interfaceName);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Steers queue <paramref name="queue"/>'s claimed frames to the socket <paramref name="socketFd"/>.</summary>
    public void Register(uint queue, int socketFd)
    {
        Span<byte> key = stackalloc byte[4];
        Span<byte> value = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, queue);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, socketFd);
        BpfSyscall.UpdateElem(_xskFd, key, value);
    }

    /// <summary>Claims a destination MAC: frames to it go to AF_XDP from now on. One bpf() call (configuration
    /// time, or the first frame of a newly learned MAC).</summary>
    public void Claim(MacAddress48 mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacProgram.KeySize];
        key.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)(mac.Value >> 32));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(key[2..], (uint)mac.Value);
        Span<byte> value = stackalloc byte[4];
        value.Clear();
        BpfSyscall.UpdateElem(_claimedFd, key, value);
    }

    public void Dispose()
    {
        if (_linkFd >= 0) { LibC.Close(_linkFd); _linkFd = -1; }
        if (_progFd >= 0) { LibC.Close(_progFd); _progFd = -1; }
        if (_xskFd >= 0) { LibC.Close(_xskFd); _xskFd = -1; }
        if (_claimedFd >= 0) { LibC.Close(_claimedFd); _claimedFd = -1; }
    }
}
