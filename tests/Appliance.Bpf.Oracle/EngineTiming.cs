using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Oracle;

/// <summary>What <see cref="EngineObject.Measure"/> timed: ns per run by the wall clock and by the process's
/// CPU time (user + system, which leaves out time other processes took from this one), the last run's
/// result, the frame after the last run, and the bytes the timed loop allocated (0 when a run allocates nothing).</summary>
public sealed record EngineTiming(double NsPerRun, double CpuNsPerRun, BpfRunResult LastRun, byte[] FrameAfter, long AllocatedBytes);
