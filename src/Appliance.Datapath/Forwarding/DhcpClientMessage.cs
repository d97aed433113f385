namespace Appliance.Datapath.Forwarding;

/// <summary>A DHCP client's message as <see cref="FrameClaims"/> found it in a frame a tenant sends, its headers read
/// once: a DHCPv4 BOOTREQUEST to UDP port 67 that no relay agent forwarded (<see cref="DhcpMessages.IsClientMessageV4"/>)
/// or a DHCPv6 client's message type to UDP port 547 (<see cref="DhcpMessages.IsClientMessageV6"/>). What it names is
/// read from it by <see cref="DhcpMessages.ClientIdentities"/> and <see cref="DhcpMessages.ClientIdentifierMac"/>.</summary>
public readonly ref struct DhcpClientMessage(ReadOnlySpan<byte> message, bool v6, bool hidden)
{
    /// <summary>DHCPv4: the BOOTP message from its op, at least up to chaddr's first 6 bytes; DHCPv6: the message from its
    /// type (empty when <see cref="Hidden"/> and the first fragment ends before it). Its bytes in this packet.</summary>
    public ReadOnlySpan<byte> Message { get; } = message;

    /// <summary>A DHCPv6 message (else DHCPv4).</summary>
    public bool V6 { get; } = v6;

    /// <summary>The packet is a first fragment: what the message names follows in later fragments.</summary>
    public bool Hidden { get; } = hidden;
}
