using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>Startup cleanup: removes what an earlier appliance run left behind because it was killed
/// (SIGKILL, power loss) before <see cref="OwnedLinks.Dispose"/> ran — interfaces and namespaces carrying an
/// <see cref="OwnerTag"/> whose process is gone. Tags of live processes (another running instance) are left
/// alone.</summary>
public static class StaleLinkSweeper
{
    /// <summary>Sweeps the caller's namespace and every named namespace. Optionally also deletes untagged veth
    /// interfaces whose name starts with <paramref name="untaggedVethPrefix"/> (a run killed between creating a
    /// pair and tagging it). Returns a line per removed object; <paramref name="log"/> hears about namespaces
    /// that could not be inspected.</summary>
    public static IReadOnlyList<string> Sweep(string? untaggedVethPrefix = null, Action<string>? log = null)
    {
        var removed = new List<string>();
        using (var root = new LinkManager()) SweepLinks(root, untaggedVethPrefix, removed);

        foreach (var ns in NetworkNamespace.List())
        {
            try
            {
                using var inside = new LinkManager(ns);
                if (OwnerTag.TryParse(inside.TryGet("lo")?.Alias, out var tag) && !tag.IsOwnerAlive())
                {
                    NetworkNamespace.Delete(ns);
                    removed.Add($"netns {ns} (created by {tag})");
                    continue;
                }
                SweepLinks(inside, untaggedVethPrefix, removed);
            }
            catch (PlatformException e) when (e.Errno is Errno.ENOENT or Errno.EINVAL)
            {
                log?.Invoke($"namespace {ns} vanished or is not mounted, skipped: {e.Message}");
            }
        }
        return removed;
    }

    private static void SweepLinks(LinkManager links, string? untaggedVethPrefix, List<string> removed)
    {
        foreach (var link in links.List())
        {
            bool stale = OwnerTag.TryParse(link.Alias, out var tag)
                ? !tag.IsOwnerAlive()
                : untaggedVethPrefix is not null && link.Alias is null && link.Kind == "veth"
                  && link.Name.StartsWith(untaggedVethPrefix, StringComparison.Ordinal);
            if (!stale) continue;
            try
            {
                links.Delete(link.Name);
                removed.Add($"{links.Where(link.Name)} ({link.Alias ?? "untagged, name prefix " + untaggedVethPrefix})");
            }
            catch (PlatformException e) when (e.Errno == Errno.ENODEV) { } // its peer was swept first
        }
    }
}
