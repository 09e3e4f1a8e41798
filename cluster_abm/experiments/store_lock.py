"""One writer per result store: a lock file that names its holder.

A sweep takes ``<store>/.lock`` before it reads or changes anything in the store and keeps it
until its manifest is written for the last time. A second sweep into the same store -- another
terminal, a second batch job, ``compare`` beside ``sweep`` -- refuses at once, in one line
naming the holder (process, machine, start time, command), instead of running every run a
second time and racing the first over the same files.

The lock is an advisory ``flock`` on the file, which the kernel releases when its process ends
however it ends (SIGKILL, the OOM killer, a power cut of a batch node with NFS locking), so a
lock of a dead process is taken over by the next sweep without anyone deleting anything; the
note it prints names the process that died holding it. The file's content only names the
holder. Where ``fcntl`` is missing (Windows), the file itself is the lock (created exclusively),
and a holder on this machine whose process no longer exists is taken over.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK = ".lock"
_ATTEMPTS = 5  # tries when the file is replaced under us between open and flock


class StoreBusy(InputError):
    """Another live process holds the store's lock."""


def _holder_info() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(os.path.basename(a) if i == 0 else a
                                for i, a in enumerate(sys.argv))[:200]}


def describe(info: dict[str, Any] | None) -> str:
    """``pid 123 on host, since 2026-..., running 'cluster-abm sweep ...'``."""
    if not info:
        return "a process that left no name"
    text = f"pid {info.get('pid', '?')} on {info.get('host', '?')}"
    if info.get("started"):
        text += f", since {info['started']}"
    if info.get("command"):
        text += f", running {info['command']!r}"
    return text


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _alive(info: dict[str, Any] | None) -> bool:
    """Whether the holder named in ``info`` is a live process (on another machine: assume so)."""
    if not info or info.get("host") != socket.gethostname():
        return bool(info)
    try:
        os.kill(int(info["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, ValueError, KeyError, TypeError):
        return True
    return True


class StoreLock:
    """``with StoreLock(folder): ...``: hold ``folder/.lock`` (see the module docstring).

    :attr:`took_over` names the dead holder whose lock was taken over, if any.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.fd: int | None = None
        self.took_over: str = ""

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.release()

    def _busy(self, info: dict[str, Any] | None) -> StoreBusy:
        hint = "" if fcntl is not None else f" (if that process is gone, delete {self.path})"
        return StoreBusy(f"{self.folder} is in use by another sweep: {describe(info)}; wait for "
                         f"it to finish or stop it, then run this again{hint}")

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - exercised through _acquire_exclusive in tests
            self._acquire_exclusive()
            return
        for _ in range(_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _flock_soon(fd):
                os.close(fd)
                raise self._busy(_read(self.path))
            try:  # the holder before us may have deleted the file between our open and flock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            previous = _read(self.path)
            if previous and previous.get("pid") is not None:
                self.took_over = describe(previous)  # it died holding the lock: the kernel freed it
            self._write(fd)
            self.fd = fd
            return
        raise self._busy(_read(self.path))

    def _write(self, fd: int) -> None:
        data = json.dumps(_holder_info()).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def _acquire_exclusive(self) -> None:
        """The lock without ``flock``: the file's existence is the lock."""
        data = json.dumps(_holder_info()).encode()
        for _ in range(_ATTEMPTS):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                info = _read(self.path)
                if _alive(info):
                    raise self._busy(info) from None
                self.took_over = describe(info)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            os.write(fd, data)
            self.fd = fd
            return
        raise self._busy(_read(self.path))

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # a clean exit leaves no file: a file left names a dead holder
        with contextlib.suppress(OSError):
            os.close(self.fd)  # closing releases the flock
        self.fd = None


def _flock_soon(fd: int) -> bool:
    """Take the exclusive lock, allowing a moment for a reader of :func:`holder` to let go."""
    for delay in (0.0, 0.05, 0.2):
        time.sleep(delay)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue
        return True
    return False


def holder(folder: str | Path) -> dict[str, Any] | None:
    """Who holds the lock of the store in ``folder`` now (None if nobody does)."""
    path = Path(folder) / LOCK
    if not path.is_file():
        return None
    info = _read(path)
    if fcntl is None:  # pragma: no cover
        return info if _alive(info) else None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return info or {}
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
