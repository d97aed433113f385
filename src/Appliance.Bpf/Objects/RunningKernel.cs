using System.Globalization;
using System.Runtime.InteropServices;

namespace Appliance.Bpf.Objects;

/// <summary>What libbpf asks the running kernel when it fills <c>__kconfig</c> externs: uname's release and version
/// (<c>/proc/sys/kernel/osrelease</c>, <c>version</c>: the same strings), Ubuntu's <c>/proc/version_signature</c>, the
/// kernel's config (<c>/boot/config-RELEASE</c>, else <c>/proc/config.gz</c>), and whether the kernel has the perf
/// kprobe and uprobe event sources libbpf's LINUX_HAS_* probes use. On the board this is the board's kernel, whose
/// values libbpf would give a program loaded into it. Tests make one with other answers.</summary>
public sealed class RunningKernel
{
    /// <summary>The most bytes a config may hold once unpacked (a kernel's is some 300 KB): a bound of ours against a
    /// file that unpacks without end.</summary>
    public const int MaxConfigBytes = 16 << 20;

    public RunningKernel(string release, string version, string? versionSignature, Func<ConfigText> readConfig,
        bool hasKprobeEvents, bool hasUprobeEvents, Architecture architecture)
    {
        Release = release;
        Version = version;
        VersionSignature = versionSignature;
        _readConfig = readConfig;
        HasKprobeEvents = hasKprobeEvents;
        HasUprobeEvents = hasUprobeEvents;
        Architecture = architecture;
    }

    private readonly Func<ConfigText> _readConfig;

    /// <summary>The kernel's config, unpacked (<see cref="Text"/> null when there is none that can be read), and where
    /// it was read or why it could not be, for messages.</summary>
    public sealed record ConfigText(byte[]? Text, string Source);

    /// <summary>uname -r, e.g. "6.18.44-fc-v1272".</summary>
    public string Release { get; }

    /// <summary>uname -v, e.g. "#1 SMP Debian 4.19.260-1 (2022-09-29)".</summary>
    public string Version { get; }

    /// <summary>Ubuntu's /proc/version_signature ("Ubuntu 5.15.0-91.101-generic 5.15.131"), or null.</summary>
    public string? VersionSignature { get; }

    /// <summary>The perf "kprobe" event source (CONFIG_KPROBE_EVENTS): libbpf's syscall-wrapper probe attaches a kprobe.</summary>
    public bool HasKprobeEvents { get; }

    /// <summary>The perf "uprobe" event source (CONFIG_UPROBE_EVENTS).</summary>
    public bool HasUprobeEvents { get; }

    public Architecture Architecture { get; }

    /// <summary>Reads the kernel's config (each call reads it anew).</summary>
    public ConfigText ReadConfig() => _readConfig();

    /// <summary>LINUX_KERNEL_VERSION as libbpf's get_kernel_version computes it: Ubuntu's version signature, then a
    /// Debian version ("Debian 4.19.260"), then the release, each "major.minor.patch" as KERNEL_VERSION(a, b, c) with
    /// the patch capped at 255; 0 when none of them has one.</summary>
    public uint VersionCode
    {
        get
        {
            if (VersionSignature is { } signature && signature.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, var third, ..]
                && ThreeNumbers(third) is { } ubuntu)
                return ubuntu;
            int debian = Version.IndexOf("Debian ", StringComparison.Ordinal);
            if (debian >= 0 && ThreeNumbers(Version[(debian + 7)..]) is { } fromDebian) return fromDebian;
            return ThreeNumbers(Release) ?? 0;
        }
    }

    /// <summary>LINUX_HAS_BPF_COOKIE: libbpf loads a tracepoint program calling bpf_get_attach_cookie, which kernels
    /// have since 5.15 where they run tracing programs (CONFIG_BPF_EVENTS: a kprobe or uprobe event source).</summary>
    public bool HasBpfCookie => VersionCode >= KernelVersion(5, 15, 0) && (HasKprobeEvents || HasUprobeEvents);

    /// <summary>LINUX_HAS_SYSCALL_WRAPPER: libbpf attaches a kprobe to <c>__x64_sys_bpf</c> (<c>__arm64_sys_bpf</c>),
    /// which x86-64 kernels have since 4.17 and arm64 ones since 4.19; without kprobe events the probe fails.</summary>
    public bool HasSyscallWrapper => HasKprobeEvents && Architecture switch
    {
        Architecture.X64 => VersionCode >= KernelVersion(4, 17, 0),
        Architecture.Arm64 => VersionCode >= KernelVersion(4, 19, 0),
        _ => false,
    };

    /// <summary>KERNEL_VERSION(a, b, c) of bpf_helpers.h.</summary>
    public static uint KernelVersion(uint major, uint minor, uint patch) => (major << 16) + (minor << 8) + Math.Min(patch, 255u);

    /// <summary>The machine this process runs on.</summary>
    public static RunningKernel Current()
    {
        string release = ReadLine("/proc/sys/kernel/osrelease") ?? "";
        return new RunningKernel(release, ReadLine("/proc/sys/kernel/version") ?? "", ReadLine("/proc/version_signature"),
            () =>
            {
                var boot = ReadConfigFile("/boot/config-" + release);
                if (boot.Text is not null) return boot;
                var proc = ReadConfigFile("/proc/config.gz");
                return proc.Text is not null ? proc : new ConfigText(null, $"{boot.Source}; {proc.Source}");
            },
            Directory.Exists("/sys/bus/event_source/devices/kprobe"), Directory.Exists("/sys/bus/event_source/devices/uprobe"),
            RuntimeInformation.OSArchitecture);
    }

    /// <summary>A config file, unpacked (<see cref="Gzip"/>) when it starts with gzip's magic (libbpf's gzopen reads
    /// both), at most <see cref="MaxConfigBytes"/>; its text is null when it cannot be read or unpacked (a file that is
    /// or unpacks to more is refused: <see cref="BpfLoadException"/>).</summary>
    public static ConfigText ReadConfigFile(string path)
    {
        try
        {
            byte[] raw;
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.SequentialScan))
                raw = ReadBounded(file, path);
            return new ConfigText(Gzip.HasMagic(raw) ? Gzip.Unpack(raw, MaxConfigBytes) : raw, path);
        }
        catch (GzipException e) when (e.TooLarge)
        {
            throw TooLarge(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException
            or GzipException)
        {
            return new ConfigText(null, $"{path}: {e.Message}");
        }
    }

    private static byte[] ReadBounded(Stream stream, string path)
    {
        var text = new MemoryStream();
        var buffer = new byte[81920];
        for (int n; (n = stream.Read(buffer)) > 0;)
        {
            if (text.Length + n > MaxConfigBytes) throw TooLarge(path);
            text.Write(buffer, 0, n);
        }
        return text.ToArray();
    }

    private static BpfLoadException TooLarge(string path)
        => new($"{path}: the kernel's config is larger than {MaxConfigBytes >> 20} MiB (a bound of ours; a kernel's is some 300 KB)");

    /// <summary>"a.b.c…" at the start (after spaces, as sscanf's %u.%u.%u reads it): KERNEL_VERSION(a, b, c), or null.</summary>
    private static uint? ThreeNumbers(string s)
    {
        int i = 0;
        Span<uint> parts = stackalloc uint[3];
        for (int p = 0; p < 3; p++)
        {
            if (p > 0)
            {
                if (i >= s.Length || s[i] != '.') return null;
                i++;
            }
            while (p == 0 && i < s.Length && char.IsWhiteSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && s[i] is >= '0' and <= '9') i++;
            if (i == start || !uint.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out parts[p]))
                return null;
        }
        return KernelVersion(parts[0], parts[1], parts[2]);
    }

    private static string? ReadLine(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }
}
