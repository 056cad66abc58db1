"""Memory of a process (Linux /proc), for the throughput tests and the benchmark.

    from memory_support import reset_peak, peak_rss, current_rss
    reset_peak(orthanc.process.pid)        # VmHWM := VmRSS (Linux >= 4.0)
    ... requests ...
    growth = peak_rss(pid) - before        # bytes

`reset_peak` writes "5" to /proc/<pid>/clear_refs, which resets the peak
resident set size (VmHWM) to the current one; it needs the same user as the
process. Where it cannot, `RssSampler` samples VmRSS every few milliseconds.
"""
import threading
import time


def _status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def current_rss(pid):
    """Resident set size now, in bytes."""
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss(pid):
    """Peak resident set size since start or the last reset_peak(), in bytes."""
    return _status_kb(pid, "VmHWM") * 1024


def reset_peak(pid):
    """Resets VmHWM to the current RSS; False if the kernel refused."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Samples VmRSS of a process in a thread: `with RssSampler(pid) as s: ...; s.peak`."""

    def __init__(self, pid, interval=0.005):
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, current_rss(self.pid))
            except (OSError, KeyError):
                return
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = current_rss(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *args):
        self._stop.set()
        self._thread.join()
