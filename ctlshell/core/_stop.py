"""Stop a child process this program started: :func:`stop_process`.

The one way ctlshell and its tests end a subprocess: a signal to its own PID (or to the
process group it leads, when it was started with ``start_new_session=True``), a wait,
then SIGKILL if it hangs, and a last wait so no zombie is left. Never by name.
Knows nothing of what the process is.
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

__all__ = ["stop_process"]


def _signal(proc: subprocess.Popen[Any], sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)  # the child leads its own group: pgid == pid
        else:
            proc.send_signal(sig)
    except ProcessLookupError:  # it ended between our poll and the signal
        pass


def stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 10.0, sig: int = signal.SIGTERM,
                 group: bool = False) -> int | None:
    """Send ``sig``, wait up to ``timeout`` s, then SIGKILL and wait again.

    Parameters
    ----------
    proc : subprocess.Popen or None
        A child this process started (None: nothing to do, so callers can be idempotent).
    timeout : float
        Seconds to wait after ``sig`` and again after SIGKILL.
    sig : int
        The first signal (SIGTERM; SIGINT for servers that shut down on Ctrl-C;
        SIGKILL to end it as a crash would).
    group : bool
        Signal the process group the child leads (it was started with
        ``start_new_session=True``), so its own children end too. The group is
        killed even when the leader has already exited.

    Returns
    -------
    int or None
        The child's exit code (None when ``proc`` is None).

    Raises
    ------
    subprocess.TimeoutExpired
        It survived SIGKILL for ``timeout`` s (uninterruptible sleep in the kernel).
    """
    if proc is None:
        return None
    if group:
        # the leader may be gone while its children still run: signal the group anyway
        _signal(proc, sig, True)
    elif proc.poll() is None:
        _signal(proc, sig, False)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL, group)
        proc.wait(timeout)
    if group and sig != signal.SIGKILL:
        _signal(proc, signal.SIGKILL, True)  # members that ignored sig (the leader has exited)
    return proc.returncode
