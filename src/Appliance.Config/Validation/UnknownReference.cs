namespace Appliance.Config;

/// <summary>A name that was referred to but not found, and the JSON paths of the lists that would have defined it ("$.ports").</summary>
public sealed record UnknownReference(string Name, IReadOnlyList<string> DefinedIn);
