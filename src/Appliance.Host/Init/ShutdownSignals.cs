using Appliance.Datapath.Diagnostics;
using System.Runtime.InteropServices;

namespace Appliance.Host.Init;

/// <summary>SIGTERM, SIGINT and SIGQUIT. As a service they request a clean shutdown (the token is
/// cancelled; the supervisor stops the body, which detaches XDP and deletes what it created). As PID 1
/// they are logged and ignored: init must never exit, because the kernel panics when it does. Either way
/// the runtime's default action (terminate) is cancelled.</summary>
public sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _shutdown = new();
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignals(bool isPid1, Logger log)
    {
        _registrations =
        [
            .. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT }.Select(signal =>
                PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    if (isPid1)
                    {
                        log.Warn("init", "ignored: PID 1 never exits", ("signal", context.Signal));
                        return;
                    }
                    log.Info("init", "shutting down", ("signal", context.Signal));
                    try
                    {
                        _shutdown.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // A signal that raced with Dispose: nobody is waiting any more.
                    }
                })),
        ];
    }

    /// <summary>Cancelled when a shutdown was requested (never as PID 1).</summary>
    public CancellationToken Token => _shutdown.Token;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _shutdown.Dispose();
    }
}
