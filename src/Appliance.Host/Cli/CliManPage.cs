using System.Text;

namespace Appliance.Host.Cli;

/// <summary>`meta-appliance --man`: the meta-appliance(8) manual page in roff, from the verb definitions
/// (the .deb ships it gzipped as /usr/share/man/man8/meta-appliance.8.gz).</summary>
public static class CliManPage
{
    public static string Render(IEnumerable<CliVerb> verbs, string version)
    {
        var b = new StringBuilder();
        b.Append($".TH META-APPLIANCE 8 \"\" \"meta-appliance {Escape(version)}\" \"System Administration\"\n");
        b.Append(".nh\n.ad l\n"); // no hyphenation, ragged right: option names stay whole
        b.Append(".SH NAME\nmeta\\-appliance \\- network firmware that forwards frames between meta pairs and Ethernet ports through AF_XDP\n");
        b.Append(".SH SYNOPSIS\n");
        var shown = verbs.Where(v => !v.Hidden).ToList();
        foreach (var v in shown) b.Append(".B meta\\-appliance\n").Append(Escape(v.Synopsis)).Append("\n.br\n");
        b.Append(".SH DESCRIPTION\n")
         .Append("A single binary reads a JSON config of meta pairs (veth tenants) and eBPF programs, run by its own interpreter, ")
         .Append("and forwards frames between the tenants and the board's Ethernet ports. ")
         .Append("Every command answers \\fB\\-\\-help\\fR.\n");
        b.Append(".SH COMMANDS\n");
        foreach (var v in shown)
        {
            b.Append(".SS ").Append(Escape(v.Name)).Append('\n');
            b.Append(Escape(v.Summary)).Append('\n');
            if (v.Description.Length > 0) b.Append(".PP\n").Append(Escape(v.Description)).Append('\n');
            foreach (var a in v.Arguments) Item(b, a.Synopsis, a.Help, italic: true);
            foreach (var o in v.Options) Item(b, o.Synopsis, o.Help + (o.Default is { } d ? $" (default {d})" : ""), italic: false);
            b.Append(".PP\n").Append(Escape(v.Exit)).Append('\n');
        }
        b.Append(".SH ENVIRONMENT\n");
        Item(b, "META_APPLIANCE_SOCKET", "the control socket the client commands use (default /run/meta\\-appliance/control.sock; \\-\\-socket wins)", italic: false, raw: true);
        Item(b, "META_APPLIANCE_LEDS", "the LED driver of run: gpio, memory or none (\\-\\-leds wins)", italic: false, raw: true);
        Item(b, "NOTIFY_SOCKET", "set by systemd for Type=notify: run reports READY=1, STATUS= and WATCHDOG=1 there", italic: false, raw: true);
        b.Append(".SH FILES\n");
        Item(b, "/etc/meta\\-appliance/config.json", "the config the systemd unit runs", italic: false, raw: true);
        Item(b, "/etc/meta\\-appliance/config.last\\-good.json", "the last config that ran healthy; a start with an invalid config falls back to it", italic: false, raw: true);
        Item(b, "/usr/share/meta\\-appliance/", "example configs and eBPF programs", italic: false, raw: true);
        b.Append(".SH SEE ALSO\n.BR systemctl (1),\n.BR bpftool (8)\n");
        return b.ToString();
    }

    private static void Item(StringBuilder b, string name, string help, bool italic, bool raw = false)
    {
        b.Append(".TP\n").Append(italic ? "\\fI" : "\\fB").Append(raw ? name : Escape(name)).Append("\\fR\n")
         .Append(raw ? help : Escape(help)).Append('\n');
    }

    /// <summary>roff-safe text: backslashes doubled, hyphens as minus signs, no line starting with a control character.</summary>
    private static string Escape(string text)
    {
        var s = text.Replace("\\", "\\e").Replace("-", "\\-");
        return s.Length > 0 && (s[0] == '.' || s[0] == '\'') ? "\\&" + s : s;
    }
}
