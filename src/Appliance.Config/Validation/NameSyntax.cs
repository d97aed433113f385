namespace Appliance.Config;

/// <summary>What names may look like: interface names follow Linux (IFNAMSIZ); other names a safe character set.</summary>
internal static class NameSyntax
{
    /// <summary>Null when <paramref name="name"/> is a usable Linux interface name, else what is wrong.</summary>
    public static string? InterfaceNameProblem(string name) =>
        name.Length > ConfigLimits.MaxInterfaceName
            ? $"\"{name}\" is {name.Length} characters; Linux interface names have at most {ConfigLimits.MaxInterfaceName}"
            : NameProblem(name, ConfigLimits.MaxInterfaceName);

    /// <summary>Null when <paramref name="name"/> is 1..max characters of letters, digits, '.', '_', '-', and not "." or "..".</summary>
    public static string? NameProblem(string name, int max)
    {
        if (name.Length == 0) return "name is empty";
        if (name.Length > max) return $"\"{name}\" is {name.Length} characters; at most {max} allowed";
        if (name is "." or "..") return $"\"{name}\" is not a usable name";
        char bad = name.FirstOrDefault(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'));
        return bad == default ? null : $"\"{name}\" contains '{bad}'; use letters, digits, '.', '_' and '-'";
    }
}
