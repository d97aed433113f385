using Appliance.Datapath.Diagnostics;
using Appliance.Interop;

namespace Appliance.Host.Init;

/// <summary>Loads the board's kernel modules with finit_module(2), in list order. We do this ourselves
/// instead of running busybox modprobe: no dependency on busybox or depmod output, and the kernel
/// decompresses .ko.xz itself (CONFIG_MODULE_DECOMPRESS=y on Debian's 6.12), so the image can carry the
/// modules as Debian ships them. Already-loaded (EEXIST) counts as success; any other failure is logged
/// and the rest still load (a missing NIC module must not stop the LEDs from showing the problem).</summary>
public static class ModuleLoader
{
    /// <summary>Returns the modules that failed, with why; empty when all loaded.</summary>
    public static IReadOnlyList<string> LoadAll(IReadOnlyList<string> modules, ModuleIndex index, IInitPlatform platform, Logger log)
    {
        var failures = new List<string>();
        foreach (var module in modules)
        {
            var path = index.Find(module);
            if (path is null)
            {
                failures.Add($"{module}: no {module}.ko[.xz|.zst|.gz] in the modules directory");
                log.Error("init", "module file not found; add it to the image", ("module", module));
                continue;
            }
            try
            {
                platform.LoadModule(path);
                log.Info("init", "loaded", ("module", module), ("path", path));
            }
            catch (PlatformException e) when (e.Errno == Errno.EEXIST)
            {
                log.Info("init", "already loaded", ("module", module));
            }
            catch (PlatformException e)
            {
                failures.Add($"{module}: {e.Message}");
                log.Error("init", e.Message, ("module", module));
            }
        }
        return failures;
    }
}
