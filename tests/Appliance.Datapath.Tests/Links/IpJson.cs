using System.Text.Json;
using Appliance.TestSupport;

namespace Appliance.Datapath.Tests.Links;

/// <summary>Independent checks through iproute2 (`ip -j`), to verify what the netlink code did.</summary>
internal static class IpJson
{
    /// <summary>`ip -j -d link show NAME` (in <paramref name="netns"/> when given), or null when absent.</summary>
    public static JsonElement? Link(string name, string? netns = null)
    {
        var r = netns is null
            ? Shell.Run("ip", "-j", "-d", "link", "show", "dev", name)
            : Shell.Run("ip", "-n", netns, "-j", "-d", "link", "show", "dev", name);
        if (r.ExitCode != 0) return null;
        using var doc = JsonDocument.Parse(r.StdOut);
        return doc.RootElement.GetArrayLength() == 0 ? null : doc.RootElement[0].Clone();
    }

    public static JsonElement RequireLink(string name, string? netns = null) =>
        Link(name, netns) ?? throw new Xunit.Sdk.XunitException($"ip link show {name} (netns {netns ?? "root"}) found nothing");

    public static IReadOnlyList<string> Flags(JsonElement link) =>
        link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToArray();

    public static bool NamespaceExists(string name) =>
        Shell.Check("ip", "netns", "list").Split('\n').Any(l => l.Split(' ')[0] == name);
}
