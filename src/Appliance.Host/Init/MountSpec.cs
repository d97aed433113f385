namespace Appliance.Host.Init;

/// <summary>One mount(2) call: source, target, file system type, MS_* flags and options.</summary>
public sealed record MountSpec(string Source, string Target, string FileSystemType, ulong Flags, string? Data = null)
{
    public override string ToString() => $"{FileSystemType} {Source} on {Target}{(Data is null ? "" : $" ({Data})")}";
}
