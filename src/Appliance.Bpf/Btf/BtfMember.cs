namespace Appliance.Bpf.Btf;

/// <summary>A struct/union member, or a DATASEC entry (then <see cref="Name"/> is the VAR's name,
/// <see cref="BitOffset"/> the byte offset × 8 and <see cref="ByteSize"/> the variable's size).</summary>
public readonly record struct BtfMember(string Name, int TypeId, uint BitOffset, uint ByteSize = 0);
