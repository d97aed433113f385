namespace Appliance.Datapath.Capture;

/// <summary>A capture file that is not pcap or pcapng, or is cut short or malformed; the message says where.</summary>
public sealed class CaptureFormatException(string message) : Exception(message);
