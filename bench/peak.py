"""Peak memory of the running process (no dependencies: peer virtualenvs import it too)."""

from __future__ import annotations


def peak_mib() -> float:
    """This process's peak resident memory since its start (VmHWM; not inherited from the
    parent that forked it, unlike getrusage's ru_maxrss)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
