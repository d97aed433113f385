namespace Appliance.Config;

/// <summary>
/// What an inspector learnt about one object file. <see cref="Problem"/> set means the program cannot be
/// used (missing file, not ELF, section absent, verifier refused: the text says which). Null collections
/// mean "not inspected" and skip those checks.
/// </summary>
public sealed record ProgramObjectReport(string? Problem, IReadOnlyCollection<string>? Sections, IReadOnlyDictionary<string, ProgramMapShape>? Maps)
{
    public static ProgramObjectReport Fails(string problem) => new(problem, null, null);

    public static readonly ProgramObjectReport ExistsOnly = new(null, null, null);
}
