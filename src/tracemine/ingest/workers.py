"""Reader processes die with the process that started them.

A reader process waits on its pool's task queue; if the ingest process is killed (``kill -9``, OOM) the
queue never closes (the other readers hold it open too), so without this the readers would wait forever,
each holding its memory. On Linux the kernel kills a reader when its parent dies (``PR_SET_PDEATHSIG``);
elsewhere, or if that call fails, a thread in the reader checks once a second that the parent is alive.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Process-pool initializer: end this process when ``parent_pid`` ends."""
    if not _kill_on_parent_death():
        threading.Thread(target=_watch, args=(parent_pid,), name="tracemine-parent-watch", daemon=True).start()
    if not _alive(parent_pid):  # the parent died before the above was in place
        os._exit(1)


def _kill_on_parent_death() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (the pid was reused)
        return False
    return True


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if not _alive(parent_pid):
            os._exit(1)
