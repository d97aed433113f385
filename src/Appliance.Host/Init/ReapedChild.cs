namespace Appliance.Host.Init;

/// <summary>A child the reaper collected: its pid, and its exit code or the signal that killed it.</summary>
public readonly record struct ReapedChild(int Pid, int? ExitCode, int? Signal)
{
    /// <summary>Decodes a waitpid(2) status word.</summary>
    public static ReapedChild FromWaitStatus(int pid, int status) =>
        (status & 0x7f) == 0 ? new(pid, (status >> 8) & 0xff, null) : new(pid, null, status & 0x7f);

    public override string ToString() => ExitCode is { } code ? $"pid {Pid} exited {code}" : $"pid {Pid} killed by signal {Signal}";
}
