namespace Appliance.Config;

/// <summary>The LED section: a global switch (night mode) and the LED lines.</summary>
public sealed record LedSettings
{
    /// <summary>"off" darkens every LED (night mode); "on" lets triggers drive them.</summary>
    public LedState State { get; set; } = LedState.On;

    public IReadOnlyList<LedConfig> Lines { get; set; } = [];
}
