namespace Appliance.Host.Init;

/// <summary>The config file is invalid and there is no valid last-known-good copy beside it: nothing can start.</summary>
public sealed class ConfigUnusableException(string message) : Exception(message);
