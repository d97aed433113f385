using Appliance.Interop;

namespace Appliance.Datapath.Xdp;

/// <summary>The XDP side of one interface: an XSKMAP keyed by receive queue, the steering program
/// (<see cref="XdpSteeringProgram"/>: its rules and the verdict for the frames they leave) bound to it, and its
/// attachment — a bpf_link (BPF_LINK_CREATE, detached by the kernel when the process dies), or netlink when the
/// kernel has no XDP links. <see cref="Replace"/> swaps the program in one step (BPF_LINK_UPDATE, or IFLA_XDP with
/// XDP_FLAGS_REPLACE): the interface is never without a program. Dispose detaches and frees everything.</summary>
public sealed class XdpSteering : IDisposable
{
    /// <summary>Queues an XSKMAP can hold (keys 0..63).</summary>
    public const int MapEntries = 64;

    private int _mapFd = -1, _progFd = -1, _linkFd = -1;
    private IXdpNetlinkAttachment? _netlinkAttachment;
    private readonly string _programName;

    public string InterfaceName { get; }
    public int IfIndex { get; }
    public XdpAttachMode Mode { get; private set; }
    public bool ViaBpfLink => _linkFd >= 0;
    public bool IsAttached => _linkFd >= 0 || _netlinkAttachment is not null;

    private XdpSteering(string interfaceName, int ifIndex, string programName)
    {
        InterfaceName = interfaceName;
        IfIndex = ifIndex;
        _programName = programName;
    }

    public string Describe() => $"{(Mode == XdpAttachMode.Native ? "native" : "generic")} via {(ViaBpfLink ? "bpf_link" : "netlink")}";

    /// <summary>Creates the map and the redirect-everything program and attaches them to <paramref name="interfaceName"/>
    /// (resolved in the calling thread's namespace). See <see cref="Attach(XdpModePreference, IXdpNetlinkAttacher?)"/>.</summary>
    public static XdpSteering Attach(string interfaceName, XdpModePreference preference = XdpModePreference.Auto,
        IXdpNetlinkAttacher? netlinkFallback = null)
    {
        var s = Create(interfaceName, XskSocket.ResolveInterface(interfaceName), [], XdpVerdict.ToSocket, "mapp_xsk_steer");
        try
        {
            s.Attach(preference, netlinkFallback);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Creates the XSKMAP and loads the program without attaching it (register sockets and fill the rules'
    /// maps first, so no frame is steered before they are in place).</summary>
    public static XdpSteering Create(string interfaceName, int ifIndex, IReadOnlyList<IXdpSteeringRule> rules,
        XdpVerdict otherwise, string programName)
    {
        var s = new XdpSteering(interfaceName, ifIndex, programName);
        try
        {
            s._mapFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, MapEntries, "mapp_xsks");
            s._progFd = s.Load(rules, otherwise);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private int Load(IReadOnlyList<IXdpSteeringRule> rules, XdpVerdict otherwise) =>
        BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpSteeringProgram.Build(_mapFd, rules, otherwise), _programName);

    /// <summary>Attaches the program: native first when <paramref name="preference"/> allows, generic when the driver
    /// has no native XDP (EOPNOTSUPP). EBUSY (another program or link is attached) is an error that says so.</summary>
    public void Attach(XdpModePreference preference, IXdpNetlinkAttacher? netlinkFallback = null)
    {
        if (IsAttached) throw new InvalidOperationException($"the XDP steering of {InterfaceName} is already attached");
        if (preference != XdpModePreference.Generic)
        {
            if (TryAttach(XdpFlags.DrvMode, XdpAttachMode.Native, netlinkFallback, allowUnsupported: preference == XdpModePreference.Auto))
                return;
        }
        TryAttach(XdpFlags.SkbMode, XdpAttachMode.Generic, netlinkFallback, allowUnsupported: false);
    }

    /// <summary>One attach attempt; false only when the driver lacks the mode and the caller may try another.</summary>
    private bool TryAttach(uint flags, XdpAttachMode mode, IXdpNetlinkAttacher? netlinkFallback, bool allowUnsupported)
    {
        try
        {
            _linkFd = BpfSyscall.CreateXdpLink(_progFd, IfIndex, flags, InterfaceName);
        }
        catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP && allowUnsupported)
        {
            return false;
        }
        catch (PlatformException e) when (e.Errno == Errno.EINVAL && netlinkFallback is not null)
        {
            // BPF_LINK_CREATE without XDP support (kernel < 5.9): attach with IFLA_XDP instead.
            _netlinkAttachment = netlinkFallback.Attach(IfIndex, _progFd, flags | XdpFlags.UpdateIfNoExist);
        }
        catch (PlatformException e) when (e.Errno is Errno.EBUSY or Errno.EEXIST)
        {
            throw new PlatformException($"attach XDP ({mode.ToString().ToLowerInvariant()})", InterfaceName, e.Errno,
                $"{InterfaceName} already has an XDP program (another `meta-appliance forward`, or a program attached with " +
                $"`ip link set dev {InterfaceName} xdp ...`: remove it with `ip link set dev {InterfaceName} xdp off`)");
        }
        Mode = mode;
        return true;
    }

    /// <summary>Loads a program with new rules (same XSKMAP, so the registered sockets stay) and swaps it in
    /// atomically for the running one: BPF_LINK_UPDATE with BPF_F_REPLACE, or IFLA_XDP with XDP_FLAGS_REPLACE and
    /// the expected old fd. Every frame runs either the old or the new program. Before <see cref="Attach"/>, it
    /// only replaces the program that will be attached. On failure the old program stays.</summary>
    public void Replace(IReadOnlyList<IXdpSteeringRule> rules, XdpVerdict otherwise)
    {
        int next = Load(rules, otherwise);
        try
        {
            if (_linkFd >= 0) BpfSyscall.UpdateLink(_linkFd, next, _progFd, InterfaceName);
            else _netlinkAttachment?.Replace(next, _progFd);
        }
        catch
        {
            LibC.Close(next);
            throw;
        }
        LibC.Close(_progFd);
        _progFd = next;
    }

    /// <summary>Steers queue <paramref name="queue"/> to the socket <paramref name="socketFd"/>.</summary>
    public void Register(uint queue, int socketFd)
    {
        Span<byte> key = stackalloc byte[4];
        Span<byte> value = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, queue);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, socketFd);
        BpfSyscall.UpdateElem(_mapFd, key, value);
    }

    /// <summary>Takes the program off the interface (its program and maps stay, so <see cref="Attach"/> puts it back
    /// with the sockets it has registered).</summary>
    public void Detach()
    {
        if (_linkFd >= 0) { LibC.Close(_linkFd); _linkFd = -1; }
        _netlinkAttachment?.Dispose();
        _netlinkAttachment = null;
    }

    public void Dispose()
    {
        Detach();
        if (_progFd >= 0) { LibC.Close(_progFd); _progFd = -1; }
        if (_mapFd >= 0) { LibC.Close(_mapFd); _mapFd = -1; }
    }
}
