// The kernel oracle (KernelObject, EngineObject, PacketBuilder, PacketCorpus, DifferentialScenario, KernelSkBuff)
// lives in tests/Appliance.Bpf.Oracle, shared with the benchmark.
global using Appliance.Bpf.Oracle;
