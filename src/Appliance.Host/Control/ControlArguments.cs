using Appliance.Host.Cli;

namespace Appliance.Host.Control;

/// <summary>The appliance's side of a control verb's arguments (the positionals and forwarded options the client
/// sent): parsed by the one <see cref="CliParser"/> with the verb's own definition, the one the client parsed them
/// with. Bad usage is an <see cref="ArgumentException"/> with the problem and the verb's synopsis, which the
/// handlers answer as a failure.</summary>
public static class ControlArguments
{
    public static CliArgs Parse(CliVerb verb, IReadOnlyList<string> args)
    {
        try
        {
            return CliParser.Parse(verb, args, forwarded: true);
        }
        catch (CliUsageException e)
        {
            throw new ArgumentException($"{e.Message}; usage: {verb.Synopsis}");
        }
    }
}
