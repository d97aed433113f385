using Appliance.Datapath.Runtime;
using Appliance.Host.Leds;

namespace Appliance.Host.Init;

/// <summary>What `meta-appliance init` supervises on a board: read the config (falling back to
/// config.last-good.json beside it, status LED 50/50 ms; with neither, LEDs from the board profile and no
/// datapath), set up the LEDs, follow port carriers, start the datapath, report started, and run until
/// stopped. A datapath failure throws out of here, and the <see cref="Supervisor"/> shows the fault and retries.</summary>
public sealed class BoardApplianceBody(string configPath, string boardEnvPath, TextWriter log)
{
    public void Run(SupervisedRun run)
    {
        var state = run.State;
        state.Stage = BootStage.ReadingConfig;
        var (config, health, baseDirectory) = ConfigSelection.Load(configPath, log);
        state.ConfigHealth = health;
        var leds = config is not null && config.Leds.Lines.Count > 0 ? LedConfigMapping.ToSetup(config.Leds) : BoardLeds();
        run.Leds?.Configure(leds); // the controller logs every LED it cannot open
        if (config is null)
        {
            // Nothing valid to run: stay up with the LEDs showing it until the user fixes the file (a reload
            // or a reboot picks it up).
            run.ReportStarted();
            run.Stopping.WaitHandle.WaitOne();
            return;
        }

        state.Stage = BootStage.StartingDatapath;
        var ports = config.Ports.Select(p => p.Name).ToList();
        BringUp(ports);
        using var carrier = new LinkCarrierMonitor(state, ports, log);
        foreach (var port in ports) state.Interface(port).PacketCounter = KernelPacketCounter.For(port);
        using var runtime = ApplianceRuntime.Start(config, new RuntimeOptions { ConfigDirectory = baseDirectory ?? "." });
        foreach (var pair in runtime.Topology.Pairs)
        {
            var p = pair;
            state.Interface(p.Name).PacketCounter = () => (ulong)(p.Primary.Counters.RxPackets + p.Peer.Counters.RxPackets);
        }
        state.Stage = BootStage.Running;
        log.WriteLine($"init: level=info rss_kb={ResidentKilobytes()} uptime_s={Uptime()} msg=\"appliance running: {ports.Count} ports, {runtime.Topology.Pairs.Length} pairs, config {health.ToString().ToLowerInvariant()}\"");
        run.ReportStarted();
        while (!run.Stopping.WaitHandle.WaitOne(500))
            if (!runtime.Engine.IsRunning)
                throw new InvalidOperationException($"the forwarding worker stopped: {runtime.Engine.WorkerFailure?.Message ?? "no reason given"}");
        state.Stage = BootStage.Stopping;
    }

    /// <summary>Loopback and the ports up, ports promiscuous: virtio-net (and most NICs) drop unicast frames
    /// for MACs other than their own otherwise, and the tenants behind the ports have their own MACs.</summary>
    private void BringUp(IReadOnlyList<string> ports)
    {
        using var links = new Appliance.Datapath.Links.LinkManager();
        foreach (var name in ports.Prepend("lo"))
        {
            if (links.TryGet(name) is null)
            {
                log.WriteLine($"init: level=warn port={name} msg=\"not present\"");
                continue;
            }
            if (name != "lo") links.SetPromiscuous(name, true);
            links.SetUp(name, true);
        }
    }

    /// <summary>VmRSS from /proc/self/status, for the boot log ("?" when unavailable).</summary>
    private static string ResidentKilobytes()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>Seconds since the kernel started (first field of /proc/uptime), for boot-time measurements.</summary>
    private static string Uptime()
    {
        try
        {
            return File.ReadAllText("/proc/uptime").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private LedSetup BoardLeds()
    {
        try
        {
            return File.Exists(boardEnvPath) ? BoardLedProfile.Parse(File.ReadAllText(boardEnvPath)) : LedSetup.None;
        }
        catch (FormatException e)
        {
            log.WriteLine($"init: level=error file={boardEnvPath} msg=\"{e.Message}\"");
            return LedSetup.None;
        }
    }
}
