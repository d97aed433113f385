namespace Appliance.Host.Cli;

/// <summary>What a value completes to in the bash completion: files, folders, network interfaces, or names the
/// running appliance reports over its control socket (`meta-appliance completion names KIND`).</summary>
public enum CliCompletion
{
    None,
    File,
    Directory,
    Interface,
    Pair,
    Program,
    Map,
}
