namespace Appliance.Host.Init;

/// <summary>The appliance proper (read config, bring up ports, forward) as run by the <see cref="Supervisor"/>.
/// It should block until <see cref="SupervisedRun.Stopping"/> is cancelled; throwing or returning early
/// counts as a failure and it is run again after a backoff.</summary>
public delegate void ApplianceBody(SupervisedRun run);
