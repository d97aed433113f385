using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Config;
using Appliance.Datapath.Capture;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Diagnostics;
using Appliance.Interop;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Runtime;

namespace Appliance.Datapath.Forwarding;

/// <summary>Broadcast and multicast from a port must reach the board's own stack AND every L2 pair on that port,
/// each copy through its own primary chain. The port's XDP program passes group frames to the kernel (so ARP for
/// the board's own address keeps working); this thread (its own counter slot, <see cref="WorkerCounters.FlooderSlot"/>,
/// and its own VM) reads a copy of each from an AF_PACKET socket on the port, as it was on the wire (the VLAN tag the
/// kernel took off put back, <see cref="GroupFrameSocket.Receive"/>: a tenant that does not trunk VLANs gets no other
/// VLAN's broadcasts), runs every L2 pair on that uplink on a
/// fresh copy — the decision a forwarding worker makes for a frame into a pair's primary side
/// (<see cref="PairFrameHandler.DecideIntoPair"/>, the one replay uses too) — and transmits what passes into the
/// tenant with an AF_PACKET send on the pair's primary end (a redirect to a port transmits there). Group traffic is control traffic (ARP, ND, DHCP, mDNS): one recv and one send per copy is
/// the price for keeping the kernel path intact. No send waits (<see cref="GroupFrameTransmitters"/>: a socket of its own
/// per interface, non-blocking): a copy an interface's queue cannot take now — a tenant whose queue stalls or drains
/// slowly — is lost to that tenant alone and counted on the side that passed it (<see cref="PairDropReason.QueueFull"/>),
/// and the next pair's copy goes at once. Each frame's source MAC is a host's on the port's outside, which no
/// tenant may learn (<see cref="SawOutside"/>), and the addresses it claims no tenant may claim. It sleeps in poll() without a timeout when idle (no periodic wake-up). A running capture sees each copy
/// through the runtime's <see cref="CaptureTap"/>: in at the port and the pair's primary side, out into the tenant.</summary>
public sealed unsafe class GroupFrameFlooder : IDisposable
{
    private const int Headroom = 256, BufferSize = 16 * 1024, Batch = 64;

    private readonly PairFrameHandler _handler;
    private readonly Appliance.Bpf.Maps.RunSection _section = new();
    private readonly Lock _frame = new();
    private readonly CaptureTap? _tap;
    private RuntimeTopology _topology;
    private readonly (GroupFrameSocket Socket, PortRuntime Port)[] _receivers;
    private readonly GroupFrameTransmitters _transmitters = new();
    private readonly WakeEvent _wake;
    private readonly Thread _thread;
    private readonly byte[] _received = new byte[BufferSize];
    // The copy a decision works on: pinned, so it is a chunk a FrameView can frame (headroom for a pushed tag).
    private readonly byte[] _work = GC.AllocateArray<byte>(BufferSize + Headroom, pinned: true);
    private readonly RateLimited _sendLog = new(5, TimeSpan.FromSeconds(5)), _faultLog = new(5, TimeSpan.FromSeconds(10)),
        _moveLog = new(5, TimeSpan.FromSeconds(10));
    private volatile bool _stop;
    private bool _started, _disposed;
    /// <summary>Who still holds the sockets, the wake event, the VM and the section: <see cref="Dispose"/> and the
    /// thread (<see cref="LetGo"/>); the last to let go closes them.</summary>
    private int _holders = 2;

    public long Received => Volatile.Read(ref _receivedCount);
    private long _receivedCount;

    /// <summary>The last fault its loop caught (it went on after it); null when there was none.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The ports it listens on: those that had L2 pairs when it was made (the runtime makes a new flooder
    /// when that set changes).</summary>
    public IReadOnlyList<string> ListensOn => _receivers.Select(r => r.Port.Name).ToArray();

    /// <param name="fibTables">The board's routing tables for bpf_fib_lookup / bpf_redirect_neigh in the pairs'
    /// programs: the same the forwarding worker reads, so a copy is answered as the original would be.</param>
    public GroupFrameFlooder(TopologySource source, bool useJit = false, CaptureTap? capture = null,
        Appliance.Bpf.Routing.IFibTables? fibTables = null)
    {
        _tap = capture;
        var topology = source.Current;
        _topology = topology;
        var receivers = new List<(GroupFrameSocket, PortRuntime)>();
        try
        {
            foreach (var port in topology.Ports)
                if (port.L2Pairs.Length > 0) receivers.Add((GroupFrameSocket.OpenReceiver(port.Name, port.Ifindex), port));
            _wake = new WakeEvent("group-frame flooder");
        }
        catch
        {
            foreach (var (s, _) in receivers) s.Dispose();
            throw;
        }
        _receivers = [.. receivers];
        // Its programs run as the last online CPU: per-CPU maps have one slot per online CPU, and every slot may be a
        // worker's (the one a flooded frame shares with that CPU's worker is the documented exception to "per worker").
        _handler = new PairFrameHandler(source, useJit: useJit, fibTables: fibTables, worker: WorkerCounters.FlooderSlot,
            processorId: (uint)Math.Max(0, Environment.ProcessorCount - 1));
        _thread = new Thread(Run) { IsBackground = true, Name = "group-flooder" };
    }

    public void Start()
    {
        _started = true;
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            var fds = new Tmds.Linux.pollfd[_receivers.Length + 1];
            for (int i = 0; i < _receivers.Length; i++) fds[i] = PollNative.Input(_receivers[i].Socket.Fd);
            fds[^1] = _wake.PollEntry;
            while (!_stop)
            {
                try
                {
                    // No timeout: it wakes for a frame, for the error a port's link going down reports, or for Dispose
                    // (a port or pair change replaces the flooder); an idle board never wakes it.
                    PollNative.Wait(fds, -1);
                    for (int i = 0; i < _receivers.Length && !_stop; i++) Drain(_receivers[i].Socket, _receivers[i].Port);
                }
                catch (Exception) when (_stop)
                {
                    // Shutdown took what it used from under it (the runtime goes on disposing once Dispose gave up
                    // waiting): not a fault, and nothing more to flood.
                    return;
                }
                catch (Exception e)
                {
                    // As a forwarding worker does: a fault never ends flooding (the tenants' ARP and ND depend on it).
                    Failure = e;
                    if (_faultLog.TryEnter(out long suppressed))
                        Log.Error("flooder", "group-frame flooder fault; it goes on", ("error", e.Message), ("suppressed", suppressed));
                    Thread.Sleep(100); // a fault on every loop must not become a hot spin
                }
            }
        }
        catch (Exception e)
        {
            // Only the set-up before the loop gets here: logged, never left unhandled on this thread (that would end
            // the process, every tenant's forwarding with it).
            Failure = e;
            Log.Error("flooder", "group-frame flooder could not start; broadcasts are not flooded", ("error", e.Message));
        }
        finally
        {
            try
            {
                LetGo();
            }
            catch (Exception e)
            {
                Log.Error("flooder", "group-frame flooder's sockets could not all be released", ("error", e.Message));
            }
        }
    }

    private void Drain(GroupFrameSocket socket, PortRuntime port)
    {
        for (int n = 0; n < Batch && !_stop; n++)
        {
            int length = socket.Receive(_received, out int start);
            if (length == 0) return;
            _receivedCount++;
            // As it was on the wire: a tag the kernel took off is back in the bytes, so the pairs' chains and the
            // tenant checks see the VLAN it came in (the workers' AF_XDP frames keep their tags too).
            var frame = new ReadOnlySpan<byte>(_received, start, length);
            if (length < 14 || (frame[0] & 1) == 0) continue;
            // From reading the chains to the last copy's run: a reload frees none of the programs read (RunSection)
            // and makes the VM forget none of them (ForgetPrograms waits for the lock).
            _section.Enter();
            _frame.Enter();
            try
            {
                _handler.BeginBatch();
                _topology = _handler.Topology;
                long now = Stopwatch.GetTimestamp();
                int sender = ClaimedAddresses.SenderOf(frame, _topology); // before a learned MAC moves
                SawOutside(port, MacAddress.Read(frame[6..]), now);
                port.ClaimedAddresses.HeardFromWire(frame, sender, port.Classifier, _topology, now);
                var byEngine = _topology.PairByEnginePort;
                foreach (int pair in port.L2Pairs)
                {
                    if (_stop) return; // not one more copy once shutdown began
                    if ((uint)pair < (uint)byEngine.Length && byEngine[pair] is { } target) Flood(port, target, frame);
                }
            }
            finally
            {
                _frame.Exit();
                _section.Exit();
            }
        }
    }

    /// <summary>The frame's source is a host on the port's outside: no tenant may learn its MAC from now on, and a
    /// tenant that had learned it loses it (released from the port's steering, counted as moved on the pair), so the
    /// host's traffic is its own again (<see cref="L2Classifier.SawOutside"/>). The addresses the frame claims are the
    /// host's too (<see cref="ClaimedAddresses"/>).</summary>
    private void SawOutside(PortRuntime port, MacAddress source, long now)
    {
        int owner = port.Classifier.SawOutside(source, now);
        if (owner < 0) return;
        var pair = (uint)owner < (uint)_topology.EnginePortCount ? _topology.PairByEnginePort[owner] : null;
        PairFrameHandler.Release(port, pair, source, _moveLog, "could not release a MAC that moved outside");
        if (pair is null) return;
        Interlocked.Increment(ref pair.Learning.MovedField);
        if (_moveLog.TryEnter(out long suppressed))
            Log.Warn("learning", "a MAC a tenant learned sent from the port's outside; it is the outside host's now", ("pair", pair.Name),
                ("port", port.Name), ("mac", source), ("suppressed", suppressed));
    }

    private void Flood(PortRuntime port, PairRuntime pair, ReadOnlySpan<byte> frame)
    {
        int length = frame.Length;
        frame.CopyTo(_work.AsSpan(Headroom));
        var recorder = _tap?.Recorder;
        int recorded = recorder?.Received(frame) ?? -1;
        var view = new FrameView((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_work)), (uint)_work.Length,
            Headroom, (uint)length, port.Index);
        var verdict = _handler.DecideIntoPair(ref view, pair);
        if (verdict.Kind == VerdictKind.Forward)
        {
            int target = verdict.TargetPort;
            int errno = _transmitters.SendTo(view.Data, target, _topology.IfindexOfEnginePort(target));
            if (errno == 0) port.FloodedField++;
            else verdict = NotSent(pair, errno);
        }
        recorder?.Decided(recorded, length, port.Index, verdict, _handler.Pipeline.Decision,
            verdict.Kind == VerdictKind.Forward ? view.Data : default);
    }

    /// <summary>A copy the kernel did not take: lost to the pair alone, counted on the side that passed it — its
    /// interface's queue full (<see cref="PairDropReason.QueueFull"/>: the send would have waited, or the qdisc dropped
    /// it) or refused otherwise (<see cref="PairDropReason.SendFailed"/>, logged rate-limited).</summary>
    private FrameVerdict NotSent(PairRuntime pair, int errno)
    {
        bool full = errno is Errno.EAGAIN or Errno.ENOBUFS;
        // A send that failed after shutdown began fails as the runtime takes the interfaces down: no news.
        if (!full && !_stop && _sendLog.TryEnter(out long suppressed))
            Log.Warn("flooder", "transmit failed", ("pair", pair.Name), ("errno", Errno.Name(errno)), ("suppressed", suppressed));
        return _handler.NotDelivered(full ? PairDropReason.QueueFull : PairDropReason.SendFailed);
    }

    /// <summary>After a reload: its pipeline and VM forget the chains and programs of before (<see
    /// cref="PairFrameHandler.ForgetPrograms"/>), between two frames, so what the reload dropped becomes garbage.</summary>
    public void ForgetPrograms()
    {
        lock (_frame) _handler.ForgetPrograms();
    }

    /// <summary>Stops the thread (5 s at most): from the moment it is called the thread takes no frame from its sockets
    /// and floods no copy it has not begun; the copy whose send it is in, if any, is the last. No send of its waits, so
    /// it stops within a frame. A thread that still does not stop in time (a log write that hangs, say) keeps what it
    /// may still touch: its sockets (closed here, their fd numbers could be handed to another socket while
    /// it still received or sent on them), its wake event, its VM and its section (epoch cells another runner would
    /// reuse while it still wrote them); it closes and releases them itself when its loop ends, and what failed under it after
    /// Dispose (the runtime disposes the rest meanwhile) is not logged as a fault.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop = true;
        if (!_started) LetGo(); // no thread to let go
        else
        {
            _wake.Signal();
            if (!_thread.Join(5000))
                Log.Warn("flooder", "the group-frame flooder did not stop within 5 s; it closes its sockets when its frame ends");
        }
        LetGo();
    }

    /// <summary>The last of <see cref="Dispose"/> and the thread to let go closes the sockets and the wake event and
    /// releases the VM and the section.</summary>
    private void LetGo()
    {
        if (Interlocked.Decrement(ref _holders) != 0) return;
        foreach (var (s, _) in _receivers) s.Dispose();
        _transmitters.Dispose();
        _wake.Dispose();
        _handler.Dispose();
        _section.Dispose();
    }
}
