using Appliance.TestSupport;

namespace Appliance.Host.Tests.Board;

/// <summary>The FAT boot partition (partition 1) inside an SD image file, read and written with mtools the way a
/// user edits it from a PC. Never use it on an image QEMU is running.</summary>
public sealed class FatPartition(string imagePath)
{
    public string ImagePath { get; } = imagePath;

    /// <summary>Byte offset of partition 1 (from the partition table, via partx).</summary>
    public long Offset
    {
        get
        {
            var start = Shell.Check("partx", "-g", "-o", "START", "-n", "1", ImagePath).Trim();
            return long.Parse(start) * 512;
        }
    }

    private string Drive => $"{ImagePath}@@{Offset}";

    /// <summary>Every file path in the partition, "/"-rooted (mdir -/ -b).</summary>
    public IReadOnlyList<string> ListFiles() =>
        Mtools("mdir", "-/", "-b", "-i", Drive, "::/")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.StartsWith("::", StringComparison.Ordinal) ? p[2..] : p)
            .ToList();

    public string ReadText(string path) => Mtools("mtype", "-i", Drive, "::" + path);

    /// <summary>Replaces (or creates) a file, like saving it from an editor on a PC.</summary>
    public void WriteText(string path, string content)
    {
        var tmp = Path.GetTempFileName();
        try
        {
            File.WriteAllText(tmp, content);
            Mtools("mcopy", "-o", "-i", Drive, tmp, "::" + path);
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    private static string Mtools(string tool, params string[] args)
    {
        Environment.SetEnvironmentVariable("MTOOLS_SKIP_CHECK", "1");
        return Shell.Check(tool, args);
    }
}
