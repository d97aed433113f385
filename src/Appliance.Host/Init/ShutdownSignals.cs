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

    public ShutdownSignals(bool isPid1, TextWriter log)
    {
        _registrations =
        [
            .. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT }.Select(signal =>
                PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    if (isPid1)
                    {
                        log.WriteLine($"init: level=warn signal={context.Signal} msg=\"ignored: PID 1 never exits\"");
                        return;
                    }
                    log.WriteLine($"init: level=info signal={context.Signal} msg=\"shutting down\"");
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
