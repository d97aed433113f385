namespace Appliance.Config;

/// <summary>Sizes of a map declared by an object (from its BTF), for checking initial contents.</summary>
public sealed record ProgramMapShape(int KeySize, int ValueSize, int MaxEntries);
