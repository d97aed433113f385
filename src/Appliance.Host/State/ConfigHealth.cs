namespace Appliance.Host.State;

/// <summary>How the running config came about: the user's file as written, the last-known-good copy
/// because the file was invalid, or nothing usable at all. Not <see cref="Ok"/> → status LED blinks 50/50 ms.</summary>
public enum ConfigHealth
{
    Ok,
    Fallback,
    Invalid,
}
