namespace Appliance.Datapath.Diagnostics;

public enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}
