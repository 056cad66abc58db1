"""Peak memory of a process, from /proc/<pid>/status.

The kernel's high-water mark VmHWM is reset first by writing "5" to
/proc/<pid>/clear_refs (Linux 4.0+, allowed for our own child process), so
the peak covers only the measured operation; VmRSS is also sampled every
few milliseconds in a thread, which gives the peak where the reset is not
allowed and a curve for the report.
"""

import threading
import time

MB = 1024.0 * 1024.0


def read_status(pid):
    """VmRSS and VmHWM in bytes."""
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def current_rss(pid):
    """Resident set size now, in bytes."""
    return read_status(pid)["VmRSS"]


def peak_rss(pid):
    """Peak resident set size since start or the last reset_peak(), in bytes."""
    return read_status(pid)["VmHWM"]


def reset_peak(pid):
    """Resets VmHWM to the current RSS; False if the kernel refused."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler:
    """with PeakSampler(pid) as s: ...; then s.baseline, s.peak, s.after (bytes)."""

    def __init__(self, pid, interval=0.005):
        self.pid = pid
        self.interval = interval
        self.baseline = self.peak = self.after = 0
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread = None
        self._sampled_peak = 0

    def __enter__(self):
        self.hwm_reset = reset_peak(self.pid)
        self.baseline = read_status(self.pid)["VmRSS"]
        self._sampled_peak = self.baseline
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            try:
                self._sampled_peak = max(self._sampled_peak, read_status(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        status = read_status(self.pid)
        self.after = status["VmRSS"]
        self.peak = max(self._sampled_peak, status["VmHWM"] if self.hwm_reset else 0)
        return False

    @property
    def growth(self):
        return self.peak - self.baseline

    def as_json(self):
        return {"BaselineMB": self.baseline / MB, "PeakMB": self.peak / MB, "AfterMB": self.after / MB,
                "GrowthMB": self.growth / MB, "PeakFrom": "VmHWM" if self.hwm_reset else "VmRSS samples"}
