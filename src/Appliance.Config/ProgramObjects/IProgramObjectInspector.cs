namespace Appliance.Config;

/// <summary>
/// Looks inside a program's eBPF object file for validation. The Config library only checks that the file
/// exists (<see cref="FileExistenceInspector"/>); the Host plugs in the eBPF loader to check sections, maps
/// and the verifier without Config depending on it.
/// </summary>
public interface IProgramObjectInspector
{
    /// <summary>Inspects the object at <paramref name="fullPath"/> for <paramref name="section"/>.</summary>
    ProgramObjectReport Inspect(string fullPath, string section);
}
