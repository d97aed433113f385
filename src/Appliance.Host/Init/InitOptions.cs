namespace Appliance.Host.Init;

/// <summary>Where init finds things on the board. Defaults fit the images built by image/ (the board
/// profile may override them): the FAT boot partition is the first of <see cref="BootDevices"/> that appears.</summary>
public sealed record InitOptions
{
    /// <summary>Run the init duties even when not PID 1 (`--init`): mounts what is missing, becomes a child subreaper.</summary>
    public bool ForceInit { get; init; }

    /// <summary>Skip mounting and module loading (the body still runs supervised): for `--init` on a PC.</summary>
    public bool SkipSystemSetup { get; init; }

    public IReadOnlyList<string> BootDevices { get; init; } = ["/dev/vda1", "/dev/mmcblk0p1", "/dev/mmcblk1p1", "/dev/sda1"];
    public string BootMountPoint { get; init; } = "/boot";
    public string BootFileSystem { get; init; } = "vfat";

    /// <summary>How long to wait for the boot device to appear after the disk driver module is loaded.</summary>
    public TimeSpan BootDeviceTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public string ModulesListFile { get; init; } = "/etc/modules.load";
    public string ModulesDirectory { get; init; } = "/lib/modules";

    public RestartBackoff Backoff { get; init; } = RestartBackoff.Default;
}
