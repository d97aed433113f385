using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp;
using Appliance.Interop;
using Appliance.Config;

namespace Appliance.Datapath.Runtime;

/// <summary>The XDP side of one port: <see cref="ClaimedMacProgram"/> with its claimed-MAC hash map and its own
/// XSKMAP, attached with a bpf_link (detached by the kernel if the process dies). The port's socket is opened
/// without the generic steering (<see cref="Xsk.XskPortSpec.AttachSteering"/> false); this is its only XDP program. Dispose detaches and frees it.</summary>
public sealed class ClaimedMacSteering : IDisposable
{
    public const int MaxClaimed = 4096;

    private int _claimedFd = -1, _xskFd = -1, _progFd = -1, _linkFd = -1;

    public string InterfaceName { get; }
    /// <summary>The mode <see cref="AttachLink"/> attached in.</summary>
    public XdpAttachMode Mode { get; private set; }
    private readonly int _ifindex;

    private ClaimedMacSteering(string interfaceName, int ifindex)
    {
        InterfaceName = interfaceName;
        _ifindex = ifindex;
    }

    /// <summary>Creates the maps and loads the program without attaching it: register the socket and claim the
    /// MACs first, then <see cref="AttachLink"/>, so no frame reaches AF_XDP before the claims are in place.</summary>
    public static ClaimedMacSteering Create(string interfaceName, int ifindex, bool dropUnclaimed)
    {
        var s = new ClaimedMacSteering(interfaceName, ifindex);
        try
        {
            s._claimedFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeHash, ClaimedMacProgram.KeySize, 4, MaxClaimed, "mapp_claimed");
            s._xskFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, XdpSteering.MapEntries, "mapp_xsks");
            s._progFd = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, ClaimedMacProgram.Build(s._claimedFd, s._xskFd, dropUnclaimed), "mapp_claimed");
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Attaches the program with a bpf_link: native XDP when asked or (Auto) when the driver has it, else generic.</summary>
    public void AttachLink(XdpModePreference preference)
    {
        if (_linkFd >= 0) throw new InvalidOperationException($"the claimed-MAC steering of {InterfaceName} is already attached");
        if (preference != XdpModePreference.Generic)
        {
            try
            {
                _linkFd = BpfSyscall.CreateXdpLink(_progFd, _ifindex, XdpFlags.DrvMode, InterfaceName);
                Mode = XdpAttachMode.Native;
                return;
            }
            catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP && preference == XdpModePreference.Auto)
            {
            }
        }
        _linkFd = BpfSyscall.CreateXdpLink(_progFd, _ifindex, XdpFlags.SkbMode, InterfaceName);
        Mode = XdpAttachMode.Generic;
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

    /// <summary>Claims a destination MAC: frames to it go to AF_XDP from now on (configuration time: throws on error).</summary>
    public void Claim(MacAddress mac)
    {
        int errno = TryClaim(mac);
        if (errno != 0) throw new PlatformException("bpf(BPF_MAP_UPDATE_ELEM)", $"claimed MACs of {InterfaceName}", errno);
    }

    /// <summary>Claims a MAC with one bpf() call (the first frame of a newly learned MAC: rare, bounded by the learn
    /// limits); returns 0 or the errno (E2BIG: the map is full) instead of throwing.</summary>
    public int TryClaim(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacProgram.KeySize];
        WriteKey(key, mac);
        Span<byte> value = stackalloc byte[4];
        value.Clear();
        return BpfSyscall.TryUpdateElem(_claimedFd, key, value);
    }

    /// <summary>Whether frames to <paramref name="mac"/> are steered to AF_XDP (diagnostics and tests).</summary>
    public bool IsClaimed(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacProgram.KeySize];
        WriteKey(key, mac);
        Span<byte> value = stackalloc byte[4];
        return BpfSyscall.LookupElem(_claimedFd, key, value);
    }

    /// <summary>Releases a claimed MAC (its pair left the port, or a learned MAC aged out): its frames go the
    /// unclaimed way again.</summary>
    public void Release(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacProgram.KeySize];
        WriteKey(key, mac);
        BpfSyscall.DeleteElem(_claimedFd, key);
    }

    private static void WriteKey(Span<byte> key, MacAddress mac)
    {
        key.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)(mac.Value >> 32));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(key[2..], (uint)mac.Value);
    }

    public void Dispose()
    {
        if (_linkFd >= 0) { LibC.Close(_linkFd); _linkFd = -1; }
        if (_progFd >= 0) { LibC.Close(_progFd); _progFd = -1; }
        if (_xskFd >= 0) { LibC.Close(_xskFd); _xskFd = -1; }
        if (_claimedFd >= 0) { LibC.Close(_claimedFd); _claimedFd = -1; }
    }
}
