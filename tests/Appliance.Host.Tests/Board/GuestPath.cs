namespace Appliance.Host.Tests.Board;

/// <summary>How frames cross the board from eth0 to eth1 inside the guest.</summary>
public static class GuestPath
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>True when the guest's meta-appliance knows <paramref name="verb"/> (hidden verbs included).</summary>
    public static bool ApplianceHasVerb(SerialConsole console, string verb)
    {
        var (rc, _) = console.Run($"! meta-appliance {verb} --help 2>&1 | grep -q \"unknown command '{verb}'\"", CommandTimeout);
        return rc == 0;
    }

    /// <summary>A Linux bridge br0 over eth0 and eth1 (busybox brctl; STP off and no forward delay through sysfs),
    /// forwarding once both ports are in state 3.</summary>
    public static void StartBridge(SerialConsole console)
    {
        console.Check("brctl addbr br0 && echo 0 > /sys/class/net/br0/bridge/stp_state && echo 0 > /sys/class/net/br0/bridge/forward_delay && " +
                      "brctl addif br0 eth0 && brctl addif br0 eth1 && ip link set br0 up", CommandTimeout);
        console.Check("n=0; while [ \"$(cat /sys/class/net/eth0/brport/state)$(cat /sys/class/net/eth1/brport/state)\" != 33 ] && [ $n -lt 100 ]; do usleep 100000; n=$((n+1)); done; " +
                      "[ \"$(cat /sys/class/net/eth0/brport/state)$(cat /sys/class/net/eth1/brport/state)\" = 33 ]", CommandTimeout);
    }

    public static void StopBridge(SerialConsole console) =>
        console.Run("ip link set br0 down; brctl delif br0 eth0; brctl delif br0 eth1; brctl delbr br0; ip link set eth0 up; ip link set eth1 up", CommandTimeout);

    /// <summary>Starts `meta-appliance forward --in eth0 --out eth1` in the background with one worker per RX queue of
    /// eth0 (the board's ports are multi-queue: a frame may arrive on any queue), logging to /tmp/forward.log.</summary>
    public static void StartForward(SerialConsole console)
    {
        console.Check("meta-appliance forward --in eth0 --out eth1 --workers $(ls -d /sys/class/net/eth0/queues/rx-* | wc -l) --ready-line FORWARD-READY " +
                      ">/tmp/forward.log 2>&1 & echo $! > /tmp/forward.pid", CommandTimeout);
        // Ready once it printed its ready line (XDP attached, AF_XDP sockets bound); fail with its log if it died.
        console.Check("n=0; while ! grep -q FORWARD-READY /tmp/forward.log && kill -0 $(cat /tmp/forward.pid) && [ $n -lt 600 ]; do usleep 100000; n=$((n+1)); done; " +
                      "grep -q FORWARD-READY /tmp/forward.log || { cat /tmp/forward.log; false; }", TimeSpan.FromSeconds(90));
    }

    public static string StopForward(SerialConsole console)
    {
        var (_, output) = console.Run("kill -INT $(cat /tmp/forward.pid); sleep 1; cat /tmp/forward.log", CommandTimeout);
        return output;
    }
}
