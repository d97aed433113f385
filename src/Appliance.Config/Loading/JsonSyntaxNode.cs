namespace Appliance.Config;

/// <summary>The kind of a JSON value in the located syntax tree.</summary>
internal enum JsonSyntaxKind { Object, Array, String, Number, True, False, Null }

/// <summary>A JSON value with the position where it starts; objects keep every member, duplicates included.</summary>
internal sealed class JsonSyntaxNode(JsonSyntaxKind kind, SourcePosition position, string? text = null)
{
    public JsonSyntaxKind Kind { get; } = kind;

    public SourcePosition Position { get; } = position;

    /// <summary>Decoded string value, or a number's text as written.</summary>
    public string? Text { get; } = text;

    public List<JsonSyntaxMember> Members { get; } = [];

    public List<JsonSyntaxNode> Items { get; } = [];

    /// <summary>How the value reads in an error message: "a number (42)", "a string (\"x\")", "an object".</summary>
    public string Describe() => Kind switch
    {
        JsonSyntaxKind.Object => "an object",
        JsonSyntaxKind.Array => "an array",
        JsonSyntaxKind.String => $"a string (\"{Shorten(Text!)}\")",
        JsonSyntaxKind.Number => $"a number ({Shorten(Text!)})",
        JsonSyntaxKind.True => "true",
        JsonSyntaxKind.False => "false",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}

/// <summary>An object member: its name, where the name starts, and its value.</summary>
internal sealed record JsonSyntaxMember(string Name, SourcePosition NamePosition, JsonSyntaxNode Value);
