namespace Appliance.Config;

/// <summary>`memory`: frames and ring sizes are powers of two in range, the frame size 2048 or 4096; `workers` 1..64.</summary>
internal sealed class MemoryRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        var m = config.Memory;
        PowerOfTwo(issues, "$.memory.frames", m.Frames, MemorySettings.MinFrames, MemorySettings.MaxFrames);
        PowerOfTwo(issues, "$.memory.ringSize", m.RingSize, MemorySettings.MinRingSize, MemorySettings.MaxRingSize);
        if (m.FrameSize is { } size && size is not (2048 or 4096))
            issues.Add("$.memory.frameSize", $"frame size {size} is not one of 2048, 4096 (or leave it out to choose by MTU)");
        if (config.Workers is { } workers && workers is < 1 or > WorkerSettings.Max)
            issues.Add("$.workers", $"{workers} workers: give 1 to {WorkerSettings.Max} (one per core), or leave it out for the board's choice (every core on a PC)");
    }

    private static void PowerOfTwo(ConfigIssues issues, string path, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max || (v & (v - 1)) != 0))
            issues.Add(path, $"{v} is not a power of two from {min} to {max}");
    }
}
