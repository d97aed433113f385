namespace Appliance.Config;

/// <summary>The `workers` member: how many forwarding workers (threads, one per core, queue q of every interface served by worker q mod N;
/// see README "Threading model") the datapath runs. Unset: the board profile's choice where it sets one, otherwise every online core.</summary>
public static class WorkerSettings
{
    /// <summary>The most a config may ask for: one XSKMAP slot per queue (64 entries) and one worker per queue.</summary>
    public const int Max = 64;

    /// <summary>Board profiles (board/) that fix the worker count: the 4-core boards use all four cores. The
    /// emulated board (qemu-virt) uses every core QEMU gives it (<c>-smp</c>).</summary>
    public static int? BoardChoice(string board) => board switch
    {
        "rpi4" => 4,        // Raspberry Pi 4: 4 × Cortex-A72
        "nanopi-r5s" => 4,  // RK3568: 4 × Cortex-A55
        _ => null,
    };

    /// <summary>Workers to run: the config's <paramref name="configured"/> count, else the board's choice, else
    /// <paramref name="onlineCores"/>; never more than the online cores (a worker per core, and per-CPU eBPF map
    /// slots are per core) and at least 1.</summary>
    public static int Resolve(int? configured, string board, int onlineCores) =>
        Math.Clamp(configured ?? BoardChoice(board) ?? onlineCores, 1, Math.Max(1, Math.Min(Max, onlineCores)));
}
