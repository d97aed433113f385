using Appliance.TestSupport;

namespace Appliance.Host.Tests.Board;

/// <summary>The host tools the emulated-board tests need: QEMU, Debian's U-Boot for QEMU, genimage, mtools, and root
/// (the board's multi-queue ports are taps in a namespace of the test's own). A missing one fails the test with
/// what to install, never a silent skip.</summary>
public static class BoardTools
{
    public const string UBootBin = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";

    private static readonly (string Tool, string Package)[] Required =
    [
        ("qemu-system-aarch64", "qemu-system-arm"), ("genimage", "genimage"), ("mcopy", "mtools"),
        ("mkenvimage", "u-boot-tools"), ("depmod", "kmod"), ("partx", "util-linux"), ("cpio", "cpio"),
    ];

    /// <summary>Throws, naming the missing Debian packages, unless every tool is installed.</summary>
    public static void Require()
    {
        var missing = Required.Where(r => !OnPath(r.Tool)).Select(r => $"{r.Tool} (Debian package {r.Package})").ToList();
        if (!File.Exists(UBootBin)) missing.Add($"{UBootBin} (Debian package u-boot-qemu)");
        if (Environment.UserName != "root") missing.Add("root (the board's ports are multi-queue taps in a namespace)");
        if (missing.Count > 0)
            throw new InvalidOperationException("the emulated-board tests need: " + string.Join(", ", missing) + "; run ./build.sh deps");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>Runs a repository script and fails with its output when it exits non-zero.</summary>
    public static string RunScript(TimeSpan timeout, string script, params string[] args)
    {
        var r = Shell.RunWithTimeout(timeout, Path.Combine(RepoPaths.Root, script), args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} exited {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        return r.StdOut + r.StdErr;
    }
}
