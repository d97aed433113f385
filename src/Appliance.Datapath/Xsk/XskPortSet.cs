using Appliance.Datapath.Xdp;
using Appliance.Interop;

namespace Appliance.Datapath.Xsk;

/// <summary>Opens the AF_XDP ports for a list of interface queues and owns them with their UMEMs (afxdp.md §13):
/// a zero-copy port gets a UMEM of its own; every copy-mode port joins one shared copy-mode UMEM (the first one
/// registers it, the others bind with XDP_SHARED_UMEM), so frames move between copy-mode ports unchanged and a
/// frame crossing UMEMs is copied exactly once. Each interface gets its XSKMAP and steering program, unless its spec says the
/// caller attaches its own.
/// <para>With <c>workers</c> = N, every interface gets a socket per queue (<see cref="XskPortSpec.Queues"/>, N when
/// unsaid), on queues spec.Queue … , and the socket on queue spec.Queue + q belongs to worker q mod N; each worker has its own shared copy-mode UMEM (the sockets of
/// one worker share it, every socket with its own FILL/COMPLETION rings), so no UMEM free stack is touched by two
/// threads. The steering program redirects by <c>ctx-&gt;rx_queue_index</c> into the XSKMAP, so each queue's frames
/// reach the socket (and the worker) of that queue.</para></summary>
public sealed class XskPortSet : IDisposable
{
    private readonly List<XskPort> _ports = [];
    private readonly List<Umem> _umems = [];
    private readonly XskOptions _options;
    private readonly Action<string> _log;
    private readonly Umem?[] _copyUmem;
    private readonly XskPort?[] _copyOwner;
    private readonly uint _copyUmemFrames;

    /// <summary>Every socket (all workers).</summary>
    public IReadOnlyList<XskPort> Ports => _ports;
    public IReadOnlyList<Umem> Umems => _umems;
    public XskOptions Options => _options;
    /// <summary>Forwarding workers the sockets were opened for (sockets per interface).</summary>
    public int Workers { get; }

    /// <summary>The sockets of worker <paramref name="worker"/>, in engine-index order.</summary>
    public IEnumerable<XskPort> PortsOf(int worker) => _ports.Where(p => p.Worker == worker).OrderBy(p => p.Index);

    private XskPortSet(XskOptions options, IReadOnlyList<XskPortSpec> specs, int workers, Action<string>? log)
    {
        _options = options;
        _log = log ?? (_ => { });
        Workers = workers;
        // A worker's shared UMEM feeds its sockets: per interface, as many as queues it owns there.
        _copyUmemFrames = options.FramesPerPort * (uint)specs.Sum(s => (QueuesOf(s) + workers - 1) / workers);
        _copyUmem = new Umem?[workers];
        _copyOwner = new XskPort?[workers];
    }

    /// <summary>A set of ports made over kernels of their own (<see cref="XskPort.Over"/>: the engine tests'); it owns
    /// them and their UMEMs from now on, as <see cref="Open"/>'s.</summary>
    internal static XskPortSet Of(IEnumerable<XskPort> ports, XskOptions options, int workers = 1)
    {
        var set = new XskPortSet(options, [], workers, null);
        foreach (var p in ports) set.Adopt(p);
        return set;
    }

    /// <summary>Opens every port in order (port index = position in <paramref name="specs"/>). Everything opened
    /// so far is closed again if one fails.</summary>
    /// <param name="workers">Forwarding workers: sockets per interface (queues spec.Queue … + workers − 1).</param>
    public static XskPortSet Open(IReadOnlyList<XskPortSpec> specs, XskOptions? options = null,
        XdpModePreference xdpMode = XdpModePreference.Auto, IXdpNetlinkAttacher? netlinkFallback = null, Action<string>? log = null,
        int workers = 1)
    {
        if (specs.Count == 0 || specs.Count > Umem.MaxOwners)
            throw new ArgumentException($"between 1 and {Umem.MaxOwners} ports are supported, got {specs.Count}", nameof(specs));
        if (workers < 1 || workers > XdpSteering.MapEntries)
            throw new ArgumentOutOfRangeException(nameof(workers), workers, $"between 1 and {XdpSteering.MapEntries} workers are supported");
        var set = new XskPortSet(options ?? new XskOptions(), specs, workers, log);
        try
        {
            XskResourceLimits.RaiseMemlock();
            for (int i = 0; i < specs.Count; i++) set.AddPort(i, specs[i], xdpMode, netlinkFallback);
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    private void AddPort(int index, XskPortSpec spec, XdpModePreference xdpMode, IXdpNetlinkAttacher? netlinkFallback)
    {
        int queues = QueuesOf(spec);
        if (!spec.AttachSteering)
        {
            for (int q = 0; q < queues; q++)
            {
                var bare = OpenPort(index, spec with { Queue = spec.Queue + (uint)q }, q % Workers);
                _ports.Add(bare);
                _log(bare.Describe());
            }
            return;
        }
        // Attach first: a second instance on the same interface fails here at once with EBUSY.
        var steering = XdpSteering.Attach(spec.InterfaceName, xdpMode, netlinkFallback);
        bool owned = false;
        try
        {
            for (int q = 0; q < queues; q++)
            {
                var port = OpenPort(index, spec with { Queue = spec.Queue + (uint)q }, q % Workers);
                if (q == 0)
                {
                    port.Steering = steering; // worker 0's socket owns (and detaches) the interface's steering
                    owned = true;
                }
                else port.SharedSteering = steering;
                _ports.Add(port);
                steering.Register(port.Queue, port.Fd);
                _log(port.Describe());
            }
        }
        catch
        {
            if (!owned) steering.Dispose();
            throw;
        }
    }

    private XskPort OpenPort(int index, XskPortSpec spec, int worker)
    {
        var o = _options;
        if (spec.ZeroCopy != ZeroCopyMode.Off)
        {
            var own = NewUmem($"{spec.InterfaceName}-q{spec.Queue}-zc", o.FramesPerPort);
            try
            {
                var port = XskPort.Create(index, spec, own, null, XskConstants.BindZeroCopy | XskConstants.BindUseNeedWakeup, o, worker);
                _umems.Add(own);
                return port;
            }
            catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP && spec.ZeroCopy == ZeroCopyMode.Auto)
            {
                own.Dispose();
                _log($"{spec.InterfaceName} queue {spec.Queue}: driver has no AF_XDP zero-copy, using copy mode on the shared UMEM");
            }
            catch
            {
                own.Dispose();
                throw;
            }
        }
        if (!o.ShareCopyUmem)
        {
            var own = NewUmem($"{spec.InterfaceName}-q{spec.Queue}-copy", o.FramesPerPort);
            _umems.Add(own);
            return XskPort.Create(index, spec, own, null, XskConstants.BindCopy | XskConstants.BindUseNeedWakeup, o, worker);
        }
        if (_copyUmem[worker] is null)
        {
            _copyUmem[worker] = NewUmem(Workers == 1 ? "shared-copy" : $"shared-copy-w{worker}", _copyUmemFrames);
            _umems.Add(_copyUmem[worker]!);
        }
        var copyPort = XskPort.Create(index, spec, _copyUmem[worker]!, _copyOwner[worker],
            _copyOwner[worker] is null ? (ushort)(XskConstants.BindCopy | XskConstants.BindUseNeedWakeup) : (ushort)0, o, worker);
        _copyOwner[worker] ??= copyPort;
        return copyPort;
    }

    /// <summary>Sockets to open on an interface: its queues (one per worker when the spec does not say), at most one
    /// XSKMAP's worth. Queue q belongs to worker q mod Workers.</summary>
    private int QueuesOf(XskPortSpec spec) => Math.Clamp(spec.Queues ?? Workers, 1, XdpSteering.MapEntries);

    /// <summary>Opens one more port while the set is in use: one socket per queue (<see cref="XskPortSpec.Queues"/>,
    /// worker w on queue spec.Queue + w), each with a UMEM of its own (the shared copy-mode UMEMs were sized at start:
    /// a frame between it and another port is copied once). Touches nothing the forwarding workers use; hand the
    /// sockets to <see cref="Engine.ForwardingEngine.AddPort(IReadOnlyList{XskPort})"/>, which adds them to the set.</summary>
    public IReadOnlyList<XskPort> OpenSeparate(int index, XskPortSpec spec, XdpModePreference xdpMode = XdpModePreference.Auto,
        IXdpNetlinkAttacher? netlinkFallback = null)
    {
        var steering = spec.AttachSteering ? XdpSteering.Attach(spec.InterfaceName, xdpMode, netlinkFallback) : null;
        var opened = new List<XskPort>();
        try
        {
            for (int w = 0; w < QueuesOf(spec); w++)
            {
                var q = spec with { Queue = spec.Queue + (uint)w, ZeroCopy = ZeroCopyMode.Off };
                int worker = w % Workers;
                var own = NewUmem($"{spec.InterfaceName}-q{q.Queue}-own", _options.FramesPerPort);
                try
                {
                    var port = XskPort.Create(index, q, own, null, XskConstants.BindCopy | XskConstants.BindUseNeedWakeup, _options, worker);
                    if (w == 0) port.Steering = steering; // worker 0's socket owns (and detaches) the interface's steering
                    else port.SharedSteering = steering;
                    opened.Add(port);
                }
                catch
                {
                    own.Dispose();
                    throw;
                }
                steering?.Register(q.Queue, opened[^1].Fd);
                _log(opened[^1].Describe());
            }
            return opened;
        }
        catch
        {
            foreach (var p in opened)
            {
                p.Steering = null;
                p.Dispose();
                p.Umem.Dispose();
            }
            steering?.Dispose();
            throw;
        }
    }

    /// <summary>Worker only: the set owns an added port (and its UMEM) from now on.</summary>
    internal void Adopt(XskPort port)
    {
        _ports.Add(port);
        if (!_umems.Contains(port.Umem)) _umems.Add(port.Umem);
    }

    /// <summary>Worker only, after the port was closed: its FILL and TX frames go back to the free stack (the
    /// kernel released them when the socket closed), and a UMEM no live port uses any more is freed.</summary>
    internal void Release(XskPort port, IReadOnlyList<XskPort> live)
    {
        _ports.Remove(port);
        if (live.Any(p => ReferenceEquals(p.Umem, port.Umem)) || _copyUmem.Any(u => ReferenceEquals(port.Umem, u)))
        {
            port.Umem.Reclaim(port.Index, FrameState.Fill);
            port.Umem.Reclaim(port.Index, FrameState.Tx);
            return;
        }
        _umems.Remove(port.Umem);
        port.Umem.Dispose();
    }

    private Umem NewUmem(string name, uint frames) =>
        new(name, frames, _options.FrameSize, _options.Headroom) { CheckTransitions = _options.CheckFrameTransitions };

    /// <summary>Detaches XDP, closes the sockets and unmaps their rings, then frees the UMEMs.</summary>
    public void Dispose()
    {
        foreach (var p in _ports) p.Dispose();
        _ports.Clear();
        foreach (var u in _umems) u.Dispose();
        _umems.Clear();
    }
}
