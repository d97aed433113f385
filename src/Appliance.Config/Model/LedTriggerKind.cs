namespace Appliance.Config;

/// <summary>What drives an LED.</summary>
public enum LedTriggerKind
{
    /// <summary>Boot: blink 100/100 ms; running: on; fallback/invalid config: blink 50/50 ms.</summary>
    Status,
    Heartbeat,
    /// <summary>On while the named port has carrier.</summary>
    Link,
    /// <summary>Blinks on traffic of the named port or pair.</summary>
    Activity,
    Fault,
    On,
    Off,
}
