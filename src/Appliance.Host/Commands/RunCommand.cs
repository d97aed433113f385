using System.Runtime.InteropServices;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Xdp;
using Appliance.Host.Control;
using Appliance.Interop;

namespace Appliance.Host.Commands;

/// <summary>`meta-appliance run --config FILE [--objects DIR] [--socket PATH] [--xdp-mode auto|native|generic]`:
/// the appliance in the foreground. Loads and validates the config, builds the appliance
/// (<see cref="ApplianceRuntime"/>), opens the control socket, prints
/// "meta-appliance: forwarding (N ports, M pairs)" on stdout when frames flow, logs on stderr, and on
/// SIGINT/SIGTERM stops and deletes everything it created. SIGHUP (or `meta-appliance reload`) re-reads the config
/// and applies changed chains. Exit 0 after a clean stop, 1 when the config or the setup fails, 2 on bad usage.</summary>
public static class RunCommand
{
    public const string Usage = "usage: meta-appliance run --config FILE [--objects DIR] [--socket PATH] [--xdp-mode auto|native|generic]";

    public static int Run(string[] args)
    {
        string? file = null, objects = null, socket = null;
        var xdp = XdpModePreference.Auto;
        for (int i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--config": file = Value(); break;
                case "--objects": objects = Value(); break;
                case "--socket": socket = Value(); break;
                case "--xdp-mode":
                    switch (Value())
                    {
                        case "auto": xdp = XdpModePreference.Auto; break;
                        case "native": xdp = XdpModePreference.Native; break;
                        case "generic": xdp = XdpModePreference.Generic; break;
                        default: return UsageError("--xdp-mode takes auto, native or generic");
                    }
                    break;
                default: return UsageError($"unexpected argument '{args[i]}'");
            }
        }
        if (file is null) return UsageError("--config FILE is required");

        var loaded = ConfigLoader.LoadFile(file, new ConfigLoadOptions { ProgramObjects = FileExistenceInspector.Instance, ObjectDirectory = objects });
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) Console.Error.WriteLine(e.ToString());
            Console.Error.WriteLine($"meta-appliance run: {file} is not valid ({loaded.Errors.Count} error(s)); nothing was started");
            return 1;
        }
        var config = loaded.Config!;

        using var stop = new ManualResetEventSlim(false);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });

        ApplianceRuntime runtime;
        try
        {
            runtime = ApplianceRuntime.Start(config, new RuntimeOptions
            {
                ConfigDirectory = loaded.BaseDirectory,
                ObjectDirectory = objects,
                XdpMode = xdp,
            });
        }
        catch (Exception e) when (e is RuntimeSetupException or PlatformException or InvalidOperationException or AggregateException)
        {
            Log.Error("run", "the appliance could not start", ("error", e.Message));
            return 1;
        }

        using (runtime)
        {
            ControlServer control;
            try
            {
                control = new ControlServer(socket ?? config.ControlSocket);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                Log.Error("run", "the control socket could not be opened", ("path", socket ?? config.ControlSocket), ("error", e.Message));
                return 1;
            }
            using (control)
            {
                var reloader = new ConfigReload(file, objects, runtime);
                ApplianceControl.Register(control, runtime);
                control.Register("reload", _ => reloader.Apply());
                using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
                {
                    c.Cancel = true;
                    var r = reloader.Apply();
                    if (r.Ok) Log.Info("run", "reloaded on SIGHUP", ("result", r.Body.Trim()));
                    else Log.Error("run", "reload refused", ("error", r.Error));
                });
                control.Start();
                Log.Info("run", "control socket open", ("path", control.Path));
                Console.Out.WriteLine($"meta-appliance: forwarding ({runtime.Topology.Ports.Length} ports, {runtime.Topology.Pairs.Length} pairs)");
                Console.Out.Flush();
                while (!stop.Wait(500))
                {
                    if (runtime.Engine.IsRunning) continue;
                    Log.Error("run", "the forwarding worker stopped", ("error", runtime.Engine.WorkerFailure?.Message));
                    return 1;
                }
                Log.Info("run", "stopping");
            }
        }
        return 0;
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"meta-appliance run: {message}\n{Usage}");
        return 2;
    }
}
