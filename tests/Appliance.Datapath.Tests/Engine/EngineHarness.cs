using System.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Links;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>An in-process forwarding engine between a topology's two appliance ends, with the frame ledger
/// checking every move, and a thread-safe log of what it reported.</summary>
public sealed class EngineHarness : IDisposable
{
    private readonly List<string> _log = [];

    public ForwardingEngine Engine { get; }
    public PortCounters In => Engine.Ports[0].Counters;
    public PortCounters Out => Engine.Ports[1].Counters;

    public EngineHarness(ForwardTopology t, IFrameHandler? handler = null, XskOptions? options = null, int? cpu = null,
        XdpModePreference xdpMode = XdpModePreference.Auto, int workers = 1, IReadOnlyList<int>? cpus = null, EngineOptions? engine = null,
        LinkWatcher? links = null, bool start = true)
    {
        var set = XskPortSet.Open([new XskPortSpec(t.In), new XskPortSpec(t.Out)],
            (options ?? new XskOptions()) with { CheckFrameTransitions = true }, xdpMode, log: Add, workers: workers);
        Engine = new ForwardingEngine(set, handler ?? StaticForwarding.CrossConnect(), (engine ?? new EngineOptions()) with { Log = Add, Cpus = cpu is int c ? [c] : cpus }, links);
        if (start) Engine.Start();
    }

    private void Add(string line)
    {
        lock (_log) _log.Add(line);
    }

    public string[] Log
    {
        get { lock (_log) return [.. _log]; }
    }

    /// <summary>Waits until every transmitted frame has completed, then returns the account.</summary>
    public FrameAccount SettledAccount()
    {
        var sw = Stopwatch.StartNew();
        FrameAccount a;
        do
        {
            a = Engine.AccountFrames();
            if (a.InTx == 0 && a.InApp == 0) return a;
            Thread.Sleep(50);
        } while (sw.Elapsed < TimeSpan.FromSeconds(10));
        return a;
    }

    public void AssertNoFrameLeaked()
    {
        var a = SettledAccount();
        Assert.True(a.IsClean, a.ToString());
        Assert.Equal(0, a.Leaked);
        Assert.Equal(0, a.InTx);
        Assert.Equal(a.Total, a.Free + a.InFill);
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            Thread.Sleep(10);
        }
    }

    public void Dispose() => Engine.Dispose();
}
