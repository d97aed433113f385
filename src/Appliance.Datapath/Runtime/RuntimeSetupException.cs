namespace Appliance.Datapath.Runtime;

/// <summary>The appliance could not be built from its config; the message says what, where and what to do.</summary>
public sealed class RuntimeSetupException : Exception
{
    public RuntimeSetupException(string message) : base(message) { }
    public RuntimeSetupException(string message, Exception inner) : base(message, inner) { }
}
