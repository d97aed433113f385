namespace Appliance.Config;

/// <summary>Where each JSON path of a loaded file starts, so checks made on the model can point at the text.</summary>
public sealed class ConfigSourceMap
{
    private readonly Dictionary<string, SourcePosition> _positions = new(StringComparer.Ordinal);

    public ConfigSourceMap(string fileName) => FileName = fileName;

    public string FileName { get; }

    internal void Record(string path, SourcePosition position) => _positions.TryAdd(path, position);

    /// <summary>Position of the value at <paramref name="path"/>; for a member left at its default, its nearest written parent.</summary>
    public SourcePosition Locate(string path)
    {
        for (string? p = path; p is not null; p = JsonPathBuilder.ParentOf(p))
            if (_positions.TryGetValue(p, out var position)) return position;
        return SourcePosition.Start;
    }

    /// <summary>An error at <paramref name="path"/>.</summary>
    public ConfigError Error(string path, string message)
    {
        var at = Locate(path);
        return new ConfigError(FileName, at.Line, at.Column, path, message);
    }
}
