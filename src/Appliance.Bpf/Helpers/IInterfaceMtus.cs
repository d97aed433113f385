namespace Appliance.Bpf.Helpers;

/// <summary>Where bpf_check_mtu finds an interface's MTU: the datapath gives the VM its ports' and pairs' MTUs
/// (<see cref="Vm.BpfVmOptions.InterfaceMtus"/>); tests use <see cref="Default"/> or a table of their own.</summary>
public interface IInterfaceMtus
{
    /// <summary>The MTU of interface <paramref name="ifindex"/>, or a negative number when there is no such interface
    /// (bpf_check_mtu then answers -ENODEV, as the kernel for an unknown ifindex).</summary>
    int MtuOf(uint ifindex);

    /// <summary>Every interface has the Ethernet default MTU, 1500.</summary>
    static IInterfaceMtus Default { get; } = new FixedMtu(1500);

    private sealed class FixedMtu(int mtu) : IInterfaceMtus
    {
        public int MtuOf(uint ifindex) => mtu;
    }
}
