namespace Appliance.Bpf.Assembly;

/// <summary>Assembly text that cannot be assembled: the message names the 1-based line and what is wrong.</summary>
public sealed class BpfAssemblyException(string message) : Exception(message);
