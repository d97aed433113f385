namespace Appliance.Host.Cli;

/// <summary>Bad usage of a verb: the message says what, the caller prints it with the verb's usage and exits 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
