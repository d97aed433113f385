using Appliance.Datapath.Diagnostics;
using System.Runtime.InteropServices;
using Appliance.Config;
using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime;
using Appliance.Host.Control;
using Appliance.Host.Leds;
using Appliance.Host.Metrics;
using Appliance.Host.Service;
using Appliance.Interop;
using Appliance.Host.State;
using Appliance.Host.Time;
using Appliance.Datapath.Programs;

namespace Appliance.Host.Init;

/// <summary>The appliance proper, the same for `run` (foreground service) and `init` (PID 1, under the
/// <see cref="Supervisor"/>): selects the config (the user's file, else config.last-good.json, status LED 50/50 ms),
/// sets up the LEDs, follows port carriers, starts the <see cref="ApplianceRuntime"/>, opens the control socket,
/// applies reloads (SIGHUP or `reload`), reports started and runs until <see cref="SupervisedRun.Stopping"/>.
/// A datapath fault raises the <see cref="DatapathFaultSource"/> fault and forwarding goes on (the worker restarts
/// itself); disposing the runtime at shutdown deletes what it created.</summary>
public sealed class ApplianceHost(ApplianceHostOptions options, Logger log)
{
    private string Name => options.LogName;
    private Logger Log => log;

    private ConfigLoadOptions LoadOptions => new() { ProgramObjects = ProgramObjectInspector.Instance, ObjectDirectory = options.ObjectDirectory };

    public void Run(SupervisedRun run)
    {
        var state = run.State;
        state.Stage = BootStage.ReadingConfig;
        run.Notifier?.Status($"reading {options.ConfigPath}");
        if (CommitConfirm.RestoreAfterRestart(options.ConfigPath) is { } restored) log.Warn(Name, restored);
        var (config, health, baseDirectory, loadedBytes) = ConfigSelection.Load(options.ConfigPath, log, LoadOptions, Name, options.StayUpWithoutConfig);
        state.ConfigHealth = health;
        ApplyLeds(run, config?.Leds);
        if (config is null)
        {
            if (!options.StayUpWithoutConfig)
                throw new ConfigUnusableException($"{options.ConfigPath} is not valid and there is no valid {ConfigSelection.LastGoodPathFor(options.ConfigPath)}; nothing was started");
            // Nothing valid to run: stay up with the LEDs showing it until the user fixes the file (a restart
            // or a reboot picks it up).
            run.ReportStarted();
            run.Stopping.WaitHandle.WaitOne();
            return;
        }

        state.Stage = BootStage.StartingDatapath;
        run.Notifier?.Status("starting the datapath");
        var ports = config.Ports.Select(p => p.Name).ToList();
        if (options.BringUpPorts) BringUp(ports);
        // The one watcher of the root namespace (one thread, one socket): the port carrier follows it from here on, the
        // runtime's pair carrier and its engine's deleted interfaces too. Declared first, it is disposed last.
        using var links = new LinkWatcher(onError: e => log.Warn("links", $"link watcher: {e.Message}"));
        using var carrier = new LinkCarrierMonitor(state, ports, links);
        foreach (var port in ports) state.Interface(port).PacketCounter = KernelPacketCounter.For(port);
        using var runtime = ApplianceRuntime.Start(config, new RuntimeOptions
        {
            ConfigDirectory = baseDirectory ?? ".",
            ObjectDirectory = options.ObjectDirectory,
            XdpMode = options.XdpMode,
            NoJit = options.NoJit,
            LinkWatcher = links,
        });
        CountPackets(runtime, state);

        var exposition = new PrometheusExposition(runtime, ReloadHistory, run.Leds);
        using var metrics = OpenMetrics(config.Metrics, exposition.Render);
        // What a rollback writes back: the bytes that run. Started from the last good copy, they are the copy's
        // (else a rolled-back edit would stay in the file and come back with the next reload or restart).
        var reloader = new ConfigReload(options.ConfigPath, options.ObjectDirectory, runtime, loadedBytes, leds => ApplyLeds(run, leds));
        Reloads? reloads = null;
        using var confirm = new CommitConfirm(reloader, state, m => log.Warn(Name, m), () => reloads!.Rearm());
        reloads = new Reloads(this, reloader, confirm, state, run.Notifier, () =>
        {
            CountPackets(runtime, state);
            carrier.Follow(runtime.Config.Ports.Select(p => p.Name));
        });
        using var control = OpenControlSocket(options.SocketPath ?? config.ControlSocket, config.ControlGroup);
        if (control is not null)
        {
            ApplianceControl.Register(control, runtime, () => HostStatus(state), exposition);
            CaptureControl.Register(control, runtime);
            LedControl.Register(control, run.Leds);
            control.Register("reload", r => reloads.FromControl(r.Args));
            control.Register("confirm", _ => confirm.Confirm());
            control.Start();
            log.Info(Name, "control socket open", ("path", control.Path));
        }
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            reloads.Run("SIGHUP");
        });
        using var watcher = options.WatchConfig ? new ConfigFileWatcher(() => reloads.Run("file change", confirmFor: options.ConfirmEdits)) : null;
        reloads.Watcher = watcher;
        watcher?.Watch(reloads.WatchedFiles);

        using var button = Button.FailsafeButtonSetup.Open(config.Button, run.Leds, state, options.ConfigPath,
            () => reloads.Run("failsafe button"), log, Name);

        state.Stage = BootStage.Running;
        log.Info(Name, $"appliance running: {ports.Count} ports, {runtime.Topology.Pairs.Length} pairs, config {health.ToString().ToLowerInvariant()}", ("rss_kb", ResidentKilobytes()), ("uptime_s", Uptime()));
        Console.Out.WriteLine($"meta-appliance: forwarding ({runtime.Topology.Ports.Length} ports, {runtime.Topology.Pairs.Length} pairs)");
        Console.Out.Flush();
        run.ReportStarted();
        run.Notifier?.Ready($"forwarding ({runtime.Topology.Ports.Length} ports, {runtime.Topology.Pairs.Length} pairs), config {health.ToString().ToLowerInvariant()}");
        var lastGood = health == ConfigHealth.Ok && loadedBytes is not null
            ? new LastGoodKeeper(options.ConfigPath, loadedBytes, options.LastGoodAfter, MonotonicTimeSource.Instance, log, Name)
            : null;
        long faultsSeen = 0;
        var engine = runtime.Engine;
        WaitHandle[] wakers = [run.Stopping.WaitHandle, engine.FaultSignal];
        bool faulted;
        do
        {
            faulted = false;
            // A datapath fault never ends the run (that would delete every tenant): it is shown on the status LED
            // and in `status` while the worker restarts itself; only shutdown or the config removes tenants.
            engine.ResetFaultSignal(); // before the reads: a fault after them wakes the next wait
            long faults = engine.WorkerRestarts + engine.HandlerFaults;
            if (!engine.IsRunning)
            {
                faulted = true;
                state.RaiseFault(DatapathFaultSource, $"the forwarding worker stopped: {engine.WorkerFailure?.Message ?? "no reason given"}");
            }
            else if (faults != faultsSeen)
            {
                faulted = true;
                faultsSeen = faults;
                state.RaiseFault(DatapathFaultSource, engine.LastFault ?? "datapath fault");
                log.Error(Name, $"datapath fault, forwarding goes on: {engine.LastFault}", ("restarts", engine.WorkerRestarts), ("handler_faults", engine.HandlerFaults));
            }
            lastGood?.Observe(engine.IsRunning);
            if (engine.IsRunning) run.Notifier?.Watchdog(); // only while a worker forwards (a restarted one does)
        }
        while (!StopAfterWait(run, wakers, faulted, UntilNextCheck(run.Notifier, lastGood)));
        state.Stage = BootStage.Stopping;
        run.Notifier?.Stopping("stopping");
        log.Info(Name, "stopping");
    }

    /// <summary>After a check that found a fault, the next one waits at least this long: a storm of faults (a worker
    /// failing on every batch, a handler throwing on every frame of a flood) wakes the health check and logs once a
    /// second, not once per fault (the engine counts every one).</summary>
    private static readonly TimeSpan FaultRecheckDelay = TimeSpan.FromSeconds(1);

    /// <summary>Sleeps until the next health check (a fault, or <paramref name="timeout"/>); true when the run stops.</summary>
    private static bool StopAfterWait(SupervisedRun run, WaitHandle[] wakers, bool faulted, TimeSpan timeout)
    {
        if (faulted)
        {
            var pause = timeout == Timeout.InfiniteTimeSpan || FaultRecheckDelay < timeout ? FaultRecheckDelay : timeout;
            if (run.Stopping.WaitHandle.WaitOne(pause)) return true;
            if (timeout != Timeout.InfiniteTimeSpan) timeout = timeout > pause ? timeout - pause : TimeSpan.Zero;
        }
        return WaitHandle.WaitAny(wakers, timeout) == 0;
    }

    /// <summary>How long the health check sleeps when no fault wakes it (<see cref="Datapath.Engine.ForwardingEngine.FaultSignal"/>):
    /// until the systemd watchdog wants its next ping or the last good copy falls due (plus a millisecond: a timed
    /// wait may end up to one early, and an early end would cost another wake-up); with neither, until a fault or the
    /// stop (an idle board's main thread then makes no wake-up at all).</summary>
    private static TimeSpan UntilNextCheck(ServiceNotifier? notifier, LastGoodKeeper? lastGood)
    {
        var wait = Timeout.InfiniteTimeSpan;
        if (notifier?.WatchdogInterval is { } w) wait = w;
        if (lastGood?.DueIn is { } due && (wait == Timeout.InfiniteTimeSpan || due + TimeSpan.FromMilliseconds(1) < wait))
            wait = due + TimeSpan.FromMilliseconds(1);
        return wait;
    }

    /// <summary>The control socket, or (when <see cref="ApplianceHostOptions.ControlSocketRequired"/> is off, as on a
    /// board) null with the reason logged: a socket problem must not keep the datapath down.</summary>
    private ControlServer? OpenControlSocket(string path, string? group)
    {
        try
        {
            return new ControlServer(path, ControlAccess.For(group));
        }
        catch (Exception e) when (!options.ControlSocketRequired && e is InvalidOperationException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or PlatformException)
        {
            log.Error(Name, $"the control socket could not be opened: {e.Message}; running without it (status/reload/leds verbs unavailable, SIGHUP still reloads)", ("path", path));
            return null;
        }
    }

    /// <summary>The Prometheus endpoint of the config's <c>metrics</c>, or null (none configured, or it could not
    /// listen: logged, and the appliance runs on without it).</summary>
    private MetricsServer? OpenMetrics(MetricsConfig? metrics, Func<string> render)
    {
        if (metrics is null || !MetricsConfig.TryParseListen(metrics.Listen, out var endpoint)) return null;
        try
        {
            var server = new MetricsServer(endpoint, render);
            log.Info(Name, $"metrics on http://{metrics.Listen}/metrics", ("listen", metrics.Listen));
            return server;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            log.Error(Name, $"the metrics endpoint could not listen: {e.Message}; running without it", ("listen", metrics.Listen));
            return null;
        }
    }

    /// <summary>The reload triggers (control socket, SIGHUP, file watcher) in one place. A refused reload (invalid file,
    /// a config the running appliance cannot take, a failed step) leaves the running config and raises the
    /// <see cref="ReloadFaultSource"/> fault (status LED 1 s on/off, `fault` LEDs on) until a reload succeeds. A reload
    /// with a confirm time that changed something waits for `meta-appliance confirm` (<see cref="CommitConfirm"/>).</summary>
    private sealed class Reloads(ApplianceHost host, ConfigReload reloader, CommitConfirm confirm, ApplianceState state, ServiceNotifier? notifier,
        Action applied)
    {
        public ConfigFileWatcher? Watcher { get; set; }

        /// <summary>After the running config changed (a reload, or a commit-confirm rollback): the watcher follows its
        /// files, the LEDs its ports and pairs.</summary>
        public void Rearm()
        {
            Watcher?.Watch(WatchedFiles);
            applied();
        }

        public IEnumerable<string> WatchedFiles => reloader.ObjectFiles.Prepend(Path.GetFullPath(reloader.File));

        /// <summary>`reload [--dry-run] [--confirm SECONDS]` from the control socket.</summary>
        public ControlResponse FromControl(string[] args)
        {
            Cli.CliArgs a;
            try
            {
                a = ControlArguments.Parse(Commands.ControlVerbs.Reload, args);
            }
            catch (ArgumentException e)
            {
                return ControlResponse.Failure($"reload: {e.Message}");
            }
            TimeSpan? confirmFor = null;
            if (a.Value("--confirm") is { } text)
            {
                if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0))
                    return ControlResponse.Failure($"reload: --confirm takes a positive number of seconds, not {PrintableText.Quote(text)}");
                confirmFor = TimeSpan.FromSeconds(seconds);
            }
            return a.Has("--dry-run") ? reloader.Apply(dryRun: true) : Run("control socket", confirmFor);
        }

        public ControlResponse Run(string trigger, TimeSpan? confirmFor = null)
        {
            var previous = reloader.Running;
            var previousBytes = reloader.RunningBytes;
            long generation = reloader.Generation;
            var r = reloader.Apply();
            host.ReloadHistory.Record(r.Ok, DateTime.UtcNow);
            notifier?.Status(r.Ok ? $"forwarding; reloaded ({trigger})" : $"forwarding; reload refused, the running config stays: {r.Error}");
            if (r.Ok)
            {
                state.ClearFault(ReloadFaultSource);
                host.Log.Info(host.Name, r.Body.Trim(), ("trigger", trigger));
                if (confirmFor is { } t && reloader.Generation != generation) // something changed: a no-op (e.g. a rollback's own write) waits for nothing
                {
                    confirm.Begin(previous, previousBytes, t);
                    r = ControlResponse.Success(r.Body.TrimEnd() + $"\nconfirm within {t.TotalSeconds:0.#} s (meta-appliance confirm), or it is rolled back");
                }
                Rearm();
            }
            else
            {
                state.RaiseFault(ReloadFaultSource, r.Error ?? "reload refused");
                host.Log.Error(host.Name, $"reload refused, the running config stays: {r.Error}", ("trigger", trigger));
            }
            return r;
        }
    }

    /// <summary>The activity LEDs' packet counters: the datapath's, per port and pair running now (again after a reload),
    /// and its traffic signal, which an idle activity LED sleeps on.</summary>
    private static void CountPackets(ApplianceRuntime runtime, ApplianceState state)
    {
        foreach (var port in runtime.Topology.Ports)
        {
            var engine = runtime.Engine;
            int index = port.Index;
            var iface = state.Interface(port.Name);
            iface.PacketCounter = () => (ulong)engine.PacketsOf(index); // summed over the workers' sockets at each sample
            iface.TrafficWake = runtime.Engine.Traffic.Arm;
        }
        foreach (var pair in runtime.Topology.Pairs)
        {
            var p = pair;
            var iface = state.Interface(p.Name);
            iface.PacketCounter = () => (ulong)(p.Primary.Counters.RxPackets + p.Peer.Counters.RxPackets);
            iface.TrafficWake = runtime.Engine.Traffic.Arm;
        }
    }

    /// <summary>What `status` adds to the runtime's report: a change waiting for confirmation, and active faults.</summary>
    private static string HostStatus(ApplianceState state)
    {
        var lines = new List<string>();
        if (state.ConfirmDeadline is { } deadline)
            lines.Add($"pending confirmation: rolled back at {deadline:HH:mm:ss} UTC ({Math.Max(0, (deadline - DateTime.UtcNow).TotalSeconds):0} s left) unless `meta-appliance confirm`");
        foreach (var (source, message) in state.Faults) lines.Add($"fault ({source}): {message}");
        return lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
    }

    public const string ReloadFaultSource = "config-reload";

    /// <summary>Fault source of a forwarding worker that restarted, a frame decision that threw, or a worker that stopped.</summary>
    public const string DatapathFaultSource = "datapath";

    /// <summary>Config generation and the last reload's result (for `/metrics`).</summary>
    public ReloadHistory ReloadHistory { get; } = new();

    /// <summary>The config's LEDs, or the board profile's when the config has none (or there is no config).</summary>
    private void ApplyLeds(SupervisedRun run, LedSettings? leds)
    {
        if (run.Leds is null) return;
        var setup = leds is not null && leds.Lines.Count > 0 ? LedConfigMapping.ToSetup(leds) : BoardLeds();
        run.Leds.Configure(setup); // the controller logs every LED it cannot open
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
                log.Warn(Name, "not present", ("port", name));
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
        var path = options.BoardEnvPath;
        try
        {
            return path is not null && File.Exists(path) ? BoardLedProfile.Parse(File.ReadAllText(path)) : LedSetup.None;
        }
        catch (FormatException e)
        {
            log.Error(Name, e.Message, ("file", path));
            return LedSetup.None;
        }
    }
}
