namespace Appliance.Config;

/// <summary>A program names an object file and section; its initial map contents have named maps and no key twice.</summary>
internal sealed class ProgramRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        // Entries naming the same object file share its maps, so each map's initial contents are given once.
        var contentsOwner = new Dictionary<(string Object, string Map), int>();
        for (int i = 0; i < config.Programs.Count; i++)
        {
            var program = config.Programs[i];
            string at = $"$.programs[{i}]";
            if (string.IsNullOrWhiteSpace(program.Object))
                issues.Add($"{at}.object", "object path is empty; expected the path of a clang-built .o file, relative to this config file");
            bool usablePath = !program.Object.Contains('\0');
            if (!usablePath) issues.Add($"{at}.object", "object path contains a NUL character");
            if (string.IsNullOrWhiteSpace(program.Section))
                issues.Add($"{at}.section", "section is empty; expected the ELF section of the program, e.g. \"tc\" or \"netkit/peer\"");
            foreach (var (mapName, entries) in program.Maps)
            {
                string mapPath = new JsonPathBuilder().Member("programs").Index(i).Member("maps").Member(mapName).ToString();
                if (mapName.Length == 0) issues.Add(mapPath, "map name is empty");
                var sharedKey = (usablePath ? Path.GetFullPath(Path.Combine("/", program.Object)) : program.Object, mapName);
                if (!contentsOwner.TryAdd(sharedKey, i))
                    issues.Add(mapPath, $"map \"{mapName}\" of {program.Object} already gets initial contents from $.programs[{contentsOwner[sharedKey]}]; programs of one object share its maps, so give them once");
                var firstKey = new Dictionary<MapDatum, int>();
                for (int k = 0; k < entries.Count; k++)
                    if (!firstKey.TryAdd(entries[k].Key, k))
                        issues.Add($"{mapPath}[{k}].key", $"key {entries[k].Key} is already set by {mapPath}[{firstKey[entries[k].Key]}]");
            }
        }
    }
}
