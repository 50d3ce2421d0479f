"""A clean process with torch imported (CUDA untouched) that forks one disposable worker per request."""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys


def serve(ctl: socket.socket) -> None:
    """Each message on `ctl` carries one socket fd: fork a worker for it and answer with the worker's pid."""
    from core.sandbox import (
        preload,  # noqa: F401  (torch imported, lazy imports done, before any fork)
        uploads,  # noqa: F401  (uploads are parsed in workers: import once, before the forks)
        worker,
    )

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    preload.settle()
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 16, 1)
        except OSError:
            return
        if not msg:  # the parent has gone: so do we
            return
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            ctl.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            worker.main(socket.socket(fileno=fds[0]))  # never returns
        os.close(fds[0])
        ctl.sendall(struct.pack("!i", pid))


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
