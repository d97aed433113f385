namespace Appliance.Datapath.Runtime.Reconcile;

/// <summary>A step failed and could not put its part back as it was either (a port whose sockets could be re-opened
/// neither on its new queues nor on its old ones): the part runs as neither config says, so the reconciler takes it
/// out once the other steps are undone (not running; the next reload makes it again from its config).</summary>
/// <param name="Target">"port eth1", as plan steps name it.</param>
public sealed class PartLeftOutException(string target, string message, Exception inner) : Exception(message, inner)
{
    public string Target { get; } = target;
}
