namespace Appliance.Host.Control;

/// <summary>Follows the config file and the program objects it names with inotify (one <see cref="FileSystemWatcher"/>
/// per folder): a write, a `cp` over a file, or an editor's temp file renamed onto it all count. Changes are debounced:
/// <paramref name="changed"/> runs once the watched files have been quiet for <see cref="DebounceDelay"/> (an editor's
/// save, or a build writing several objects, is one reload).</summary>
public sealed class ConfigFileWatcher(Action changed, TimeSpan? debounce = null) : IDisposable
{
    /// <summary>How long the files must be quiet before a reload: 500 ms.</summary>
    public static readonly TimeSpan DebounceDelay = TimeSpan.FromMilliseconds(500);

    private readonly object _gate = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private HashSet<string> _files = new(StringComparer.Ordinal);
    private readonly Timer _timer = new(_ => changed(), null, Timeout.Infinite, Timeout.Infinite);
    private readonly TimeSpan _debounce = debounce ?? DebounceDelay;
    private bool _disposed;

    /// <summary>Watches exactly these files from now on (absolute paths).</summary>
    public void Watch(IEnumerable<string> files)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var wanted = files.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
            if (wanted.SetEquals(_files)) return;
            foreach (var w in _watchers) w.Dispose();
            _watchers.Clear();
            _files = wanted;
            foreach (var folder in wanted.Select(f => Path.GetDirectoryName(f)!).Distinct(StringComparer.Ordinal))
            {
                if (!Directory.Exists(folder)) continue;
                var w = new FileSystemWatcher(folder)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                    IncludeSubdirectories = false,
                };
                w.Changed += (_, e) => Seen(e.FullPath);
                w.Created += (_, e) => Seen(e.FullPath);
                w.Renamed += (_, e) => Seen(e.FullPath);
                w.EnableRaisingEvents = true;
                _watchers.Add(w);
            }
        }
    }

    private void Seen(string path)
    {
        lock (_gate)
        {
            if (_disposed || !_files.Contains(Path.GetFullPath(path))) return;
            _timer.Change(_debounce, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var w in _watchers) w.Dispose();
            _watchers.Clear();
        }
        _timer.Dispose();
    }
}
