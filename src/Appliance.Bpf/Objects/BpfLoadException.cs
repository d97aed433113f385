namespace Appliance.Bpf.Objects;

/// <summary>An object file that cannot be loaded: malformed ELF or BTF, an unsupported feature, or a
/// relocation that does not resolve. The message names the file, the section and, for code, the
/// instruction index.</summary>
public sealed class BpfLoadException : Exception
{
    public BpfLoadException(string message) : base(message) { }
}
