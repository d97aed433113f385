using Appliance.Datapath.Engine;
using Appliance.Datapath.Xsk;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>A <see cref="ForwardingEngine"/> over ports whose kernel side is a <see cref="FakeKernel"/>: no root, no
/// interface, no thread unless a test starts the engine; the test turns each worker by hand (<see cref="Turn"/>, the
/// worker's own loop body) and runs its health check when it wants one. Sockets are given as (engine port, worker)
/// pairs; with <c>shareUmem</c> every worker's sockets share one UMEM (the appliance's shared copy mode: frames move
/// between them unchanged), else each socket has its own (a frame crossing is copied once). Every frame move is
/// checked against the ledger.</summary>
public sealed class FakeBoard : IDisposable
{
    public const uint FillFrames = 128;
    private const uint FrameSize = 2048;

    private readonly List<string> _log = [];
    private readonly List<(int Port, int Worker, FakeKernel Kernel)> _kernels = [];

    public ForwardingEngine Engine { get; }

    /// <summary>One socket per port, all on worker 0.</summary>
    public FakeBoard(IFrameHandler handler, int ports = 2, bool shareUmem = true, uint txRing = 256, EngineOptions? options = null,
        Func<int, XskBindMode>? bindMode = null, Func<int, bool>? busyPoll = null)
        : this(handler, [.. Enumerable.Range(0, ports).Select(p => (p, 0))], shareUmem, txRing, options, bindMode, busyPoll)
    {
    }

    public FakeBoard(IFrameHandler handler, (int Port, int Worker)[] sockets, bool shareUmem = true, uint txRing = 256,
        EngineOptions? options = null, Func<int, XskBindMode>? bindMode = null, Func<int, bool>? busyPoll = null)
    {
        int workers = sockets.Max(s => s.Worker) + 1;
        var umems = new Umem?[workers];
        var opened = new List<XskPort>();
        foreach (var (port, worker) in sockets)
        {
            uint queue = (uint)_kernels.Count(k => k.Port == port);
            Umem umem;
            if (!shareUmem) umem = NewUmem($"p{port}q{queue}", 1);
            else umem = umems[worker] ??= NewUmem($"shared-w{worker}", sockets.Count(s => s.Worker == worker));
            var kernel = new FakeKernel(umem, $"fake{port}", queue, tx: txRing);
            _kernels.Add((port, worker, kernel));
            opened.Add(XskPort.Over(port, kernel, umem, ownsUmem: !shareUmem || opened.All(p => p.Umem != umem), FillFrames, worker,
                bindMode?.Invoke(port) ?? XskBindMode.Copy, busyPoll?.Invoke(port) ?? false));
        }
        var set = XskPortSet.Of(opened, new XskOptions { FrameSize = FrameSize, CheckFrameTransitions = true }, workers);
        Engine = new ForwardingEngine(set, _ => handler, (options ?? new EngineOptions()) with { Log = Add });
    }

    /// <summary>A UMEM for <paramref name="sockets"/> sockets: each one's FILL share, a full TX ring and two batches.</summary>
    public static Umem NewUmem(string name, int sockets) =>
        new(name, (uint)sockets * (FillFrames + 256 + 2 * ForwardingEngine.Batch), FrameSize, 0) { CheckTransitions = true };

    private void Add(string line)
    {
        lock (_log) _log.Add(line);
    }

    public string[] Log
    {
        get { lock (_log) return [.. _log]; }
    }

    /// <summary>The kernel of engine port <paramref name="port"/>'s socket on <paramref name="worker"/>.</summary>
    public FakeKernel Kernel(int port, int worker = 0) => _kernels.First(k => k.Port == port && k.Worker == worker).Kernel;

    /// <summary>Worker <paramref name="worker"/>'s socket of engine port <paramref name="port"/>.</summary>
    public XskPort Port(int port, int worker = 0) => Engine.PortAt(port, worker);

    /// <summary>One turn of worker <paramref name="worker"/>'s loop; true when a frame moved.</summary>
    public bool Turn(int worker = 0) => Engine.WorkerAt(worker).Turn();

    /// <summary>Turns worker <paramref name="worker"/> until two turns in a row move nothing (a turn's kick is not
    /// progress, its completions are reaped by the next one).</summary>
    public void Settle(int worker = 0)
    {
        for (int turns = 0, idle = 0; idle < 2; turns++)
        {
            if (turns > 10_000) throw new InvalidOperationException("the worker never settled");
            idle = Turn(worker) ? 0 : idle + 1;
        }
    }

    /// <summary>The worker's health check (SO_ERROR of every socket, TX reclaim of a port gone down, the handler's tick).</summary>
    public void CheckHealth(int worker = 0) => Engine.WorkerAt(worker).CheckHealth();

    /// <summary>The frame census, asserted clean (nothing leaked, ledger, free stacks and ring counters agree).</summary>
    public FrameAccount AssertClean()
    {
        var a = Engine.AccountFrames();
        Assert.True(a.IsClean, a.ToString());
        Assert.Equal(a.Total, a.Free + a.InFill + a.InTx);
        return a;
    }

    /// <summary><paramref name="count"/> distinct frames of <paramref name="size"/> bytes, numbered from <paramref name="first"/>.</summary>
    public static byte[][] Frames(int first, int count, int size = 128) =>
        [.. Enumerable.Range(first, count).Select(i => TestFrames.Build([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], size + i % 7, i))];

    public void Dispose()
    {
        Engine.Dispose();
        foreach (var k in _kernels) k.Kernel.Dispose();
    }
}
