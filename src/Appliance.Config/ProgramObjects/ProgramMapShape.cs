namespace Appliance.Config;

/// <summary>Sizes of a map declared by an object (from its BTF), for checking initial contents. <paramref name="CannotFill"/>:
/// why the config cannot give it contents (a map of a type the appliance does not have, a map of maps), or null.</summary>
public sealed record ProgramMapShape(int KeySize, int ValueSize, int MaxEntries, string? CannotFill = null);
