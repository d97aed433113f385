namespace Appliance.Host.State;

/// <summary>Where the appliance is in its start-up. The status LED blinks 100/100 ms until <see cref="Running"/>.</summary>
public enum BootStage
{
    Init,
    Mounting,
    LoadingModules,
    ReadingConfig,
    StartingDatapath,
    Running,
    Stopping,
}
