using Appliance.Datapath.Diagnostics;
using Appliance.Interop;
using Appliance.Host.State;
using Appliance.Host.Time;

namespace Appliance.Host.Init;

/// <summary>The init duties before the appliance starts: early mounts, kernel modules, the boot partition.
/// Nothing here throws: a failure is logged and raised as an "init" fault (the status LED shows it), and
/// the appliance still starts so the user sees what went wrong.</summary>
public sealed class SystemSetup(IInitPlatform platform, ApplianceState state, ITimeSource time, Logger log)
{
    public const string FaultSource = "init";

    public void Run(InitOptions options)
    {
        var problems = new List<string>();
        state.Stage = BootStage.Mounting;
        problems.AddRange(MountAll(MountPlan.Early()));
        state.Stage = BootStage.LoadingModules;
        problems.AddRange(LoadModules(options));
        state.Stage = BootStage.Mounting;
        problems.AddRange(MountBootPartition(options));
        if (problems.Count > 0) state.RaiseFault(FaultSource, string.Join("; ", problems));
    }

    /// <summary>Mounts the entries not mounted yet; returns the failures.</summary>
    public IReadOnlyList<string> MountAll(IReadOnlyList<MountSpec> plan)
    {
        var failures = new List<string>();
        foreach (var spec in plan)
        {
            // Re-read the table each time: /proc itself is the first mount of the plan.
            var mounted = platform.ReadMountTable() is { } table ? MountTable.Targets(table) : new HashSet<string>();
            if (MountPlan.Pending([spec], mounted).Count == 0)
            {
                log.Info("init", "already mounted", ("mount", spec));
                continue;
            }
            try
            {
                platform.Mount(spec);
                log.Info("init", "mounted", ("mount", spec));
            }
            catch (PlatformException e) when (e.Errno == Errno.EBUSY)
            {
                log.Info("init", "already mounted (EBUSY)", ("mount", spec));
            }
            catch (PlatformException e)
            {
                failures.Add(e.Message);
                log.Error("init", e.Message, ("mount", spec));
            }
        }
        return failures;
    }

    private IReadOnlyList<string> LoadModules(InitOptions options)
    {
        if (!platform.Exists(options.ModulesListFile))
        {
            log.Info("init", $"no module list at {options.ModulesListFile}; loading no modules");
            return [];
        }
        var modules = ModuleList.Parse(platform.ReadText(options.ModulesListFile));
        var index = new ModuleIndex(platform.ListFiles(options.ModulesDirectory));
        return ModuleLoader.LoadAll(modules, index, platform, log);
    }

    private IReadOnlyList<string> MountBootPartition(InitOptions options)
    {
        var deadline = time.Now + options.BootDeviceTimeout;
        string? device;
        while ((device = MountPlan.FirstPresent(options.BootDevices, platform.Exists)) is null && time.Now < deadline)
            time.WaitUntil(time.Now + TimeSpan.FromMilliseconds(20), CancellationToken.None);
        if (device is null)
        {
            var message = $"no boot partition: none of {string.Join(", ", options.BootDevices)} appeared within {options.BootDeviceTimeout.TotalSeconds} s (is the disk driver module listed?)";
            log.Error("init", message);
            return [message];
        }
        return MountAll([MountPlan.BootPartition(device, options.BootMountPoint, options.BootFileSystem)]);
    }
}
