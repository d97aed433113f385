namespace Appliance.Config;

/// <summary>Checks each program against what an inspector reports about its object file: usable, section present, maps and sizes.</summary>
internal static class ProgramObjectCheck
{
    public static void Run(ApplianceConfig config, string configDirectory, ConfigLoadOptions options, ConfigIssues issues)
    {
        var inspector = options.ProgramObjects!;
        // One inspection (a load and a verification) per object and section, as `run` makes: a config may name one
        // object in thousands of programs.
        var reports = new Dictionary<(string Path, string Section), ProgramObjectReport>();
        for (int i = 0; i < config.Programs.Count; i++)
        {
            var program = config.Programs[i];
            string at = $"$.programs[{i}]";
            if (string.IsNullOrWhiteSpace(program.Object)) continue; // ProgramRule reported it
            var key = (ProgramObjectPaths.Resolve(program, configDirectory, options.ObjectDirectory), program.Section);
            if (!reports.TryGetValue(key, out var report)) reports[key] = report = inspector.Inspect(key.Item1, key.Section);
            if (report.Problem is not null) { issues.Add($"{at}.object", report.Problem); continue; }
            if (report.Sections is { } sections && !sections.Contains(program.Section))
                issues.Add($"{at}.section", $"section \"{program.Section}\" is not in {program.Object} (it has: {string.Join(", ", sections)})");
            if (report.Maps is { } maps) CheckMaps(program, i, maps, issues);
        }
    }

    private static void CheckMaps(ProgramConfig program, int index, IReadOnlyDictionary<string, ProgramMapShape> maps, ConfigIssues issues)
    {
        foreach (var (mapName, entries) in program.Maps)
        {
            string mapPath = new JsonPathBuilder().Member("programs").Index(index).Member("maps").Member(mapName).ToString();
            if (!maps.TryGetValue(mapName, out var shape))
            {
                issues.Add(mapPath, $"object {program.Object} declares no map \"{mapName}\" ({NameList.ExpectedOneOf(maps.Keys.ToList(), "maps")})");
                continue;
            }
            if (shape.CannotFill is { } why && entries.Count > 0)
            {
                issues.Add(mapPath, $"map \"{mapName}\" cannot be given contents: {why}");
                continue;
            }
            if (entries.Count > shape.MaxEntries)
                issues.Add(mapPath, $"{entries.Count} entries, but map \"{mapName}\" holds at most {shape.MaxEntries}");
            for (int k = 0; k < entries.Count; k++)
            {
                CheckDatum(entries[k].Key, shape.KeySize, $"{mapPath}[{k}].key", "key", issues);
                CheckDatum(entries[k].Value, shape.ValueSize, $"{mapPath}[{k}].value", "value", issues);
            }
        }
    }

    private static void CheckDatum(MapDatum datum, int size, string path, string what, ConfigIssues issues)
    {
        if (datum.ToBytes(size) is not null) return;
        issues.Add(path, datum.HexLength is int length
            ? $"{what} is {length} bytes; the map's {what} size is {size} bytes"
            : $"{what} {datum} does not fit the map's {size}-byte {what}");
    }
}
