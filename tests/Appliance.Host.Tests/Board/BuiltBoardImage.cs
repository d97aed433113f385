using System.Diagnostics;

namespace Appliance.Host.Tests.Board;

/// <summary>The qemu-virt SD image built once per test run by image/build-image.sh from the published
/// linux-arm64 binary, into a temporary directory (so a developer's image/out is never touched), deleted when
/// the test process exits. Debian packages come from image/cache/ (downloaded on the first build only).</summary>
public sealed class BuiltBoardImage
{
    public const string BoardName = "qemu-virt";

    private static readonly Lazy<BuiltBoardImage> Shared = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The image of this test run (building it on first use; a failed build fails every caller).</summary>
    public static BuiltBoardImage Instance => Shared.Value;

    public string Directory { get; }
    public string SdCard => Path.Combine(Directory, "sdcard.img");
    public string UBootEnvironment => Path.Combine(Directory, "uboot-env.img");
    public TimeSpan BuildTime { get; }
    public string BuildLog { get; }

    /// <summary>build-info.env written by the image builder (KERNEL_RELEASE, IMAGE_BYTES, INITRD_BYTES, ...).</summary>
    public IReadOnlyDictionary<string, string> Info { get; }

    private BuiltBoardImage(string directory, TimeSpan buildTime, string log)
    {
        Directory = directory;
        BuildTime = buildTime;
        BuildLog = log;
        Info = File.ReadAllLines(Path.Combine(directory, "build-info.env"))
            .Where(l => l.Contains('='))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
    }

    private static BuiltBoardImage Build()
    {
        BoardTools.Require();
        var bin = RepoPaths.Binary("linux-arm64");
        if (!File.Exists(bin))
            throw new InvalidOperationException($"{bin} is missing: run ./build.sh publish linux-arm64 (./build.sh test does it first)");
        RemoveStaleImages();
        var dir = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Environment.ProcessId}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(dir);
        Environment.SetEnvironmentVariable("META_APPLIANCE_BIN", bin);
        var sw = Stopwatch.StartNew();
        var log = BoardTools.RunScript(TimeSpan.FromMinutes(10), "image/build-image.sh", BoardName, "--out", dir);
        return new BuiltBoardImage(dir, sw.Elapsed, log);
    }

    /// <summary>A private copy of the image (for tests that change its FAT partition), deleted by the caller.</summary>
    public string CopyTo(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var copy = Path.Combine(directory, "sdcard.img");
        Appliance.TestSupport.Shell.Check("cp", "--sparse=always", SdCard, copy);
        return copy;
    }

    private const string DirectoryPrefix = "mapp-board-image-";

    /// <summary>Deletes images of earlier test processes that ended without their exit handler (killed runs).</summary>
    private static void RemoveStaleImages()
    {
        foreach (var d in System.IO.Directory.GetDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
            if (int.TryParse(Path.GetFileName(d)[DirectoryPrefix.Length..], out var pid) && !System.IO.Directory.Exists($"/proc/{pid}"))
                TryDelete(d);
    }

    private static void TryDelete(string dir)
    {
        try { if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }
}
