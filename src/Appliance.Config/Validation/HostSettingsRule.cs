namespace Appliance.Config;

/// <summary>The control socket is an absolute path that fits in sockaddr_un; the metrics endpoint is ADDRESS:PORT.</summary>
internal sealed class HostSettingsRule : IConfigRule
{
    public void Check(ApplianceConfig config, ConfigIssues issues)
    {
        string socket = config.ControlSocket;
        if (!socket.StartsWith('/'))
            issues.Add("$.controlSocket", $"control socket \"{socket}\" must be an absolute path like \"{ApplianceConfig.DefaultControlSocket}\"");
        else if (System.Text.Encoding.UTF8.GetByteCount(socket) > ConfigLimits.MaxSocketPath)
            issues.Add("$.controlSocket", $"control socket path is {System.Text.Encoding.UTF8.GetByteCount(socket)} bytes; a unix socket path has at most {ConfigLimits.MaxSocketPath}");
        if (config.Metrics is { } metrics && !MetricsConfig.TryParseListen(metrics.Listen, out _))
            issues.Add("$.metrics.listen", $"\"{metrics.Listen}\" is not {MetricsConfig.Expected}");
    }
}
