"""One running emulator per state folder, shared by every process that needs it.

A serving process holds an exclusive lock on `DIR/server.lock` for as long as it runs (the lock
dies with the process, even after `kill -9`) and describes itself in `DIR/server.json`. A process
that needs the emulator uses the one described there while the lock is held; otherwise it starts
one in the background, under `DIR/starting.lock` so two processes never start two servers over the
same files (the copy that stopped last would overwrite the other's writes).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tandem.errors import EmulatorUnavailable

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    ca_path: Path
    pid: int


def _make_folder(state_dir: Path) -> None:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where the folder (or one above it) should be, or no permission
        raise EmulatorUnavailable(f"cannot use {state_dir} as the emulator's state folder: "
                                  f"{error.strerror or error}") from None


def _lock_path(state_dir: Path) -> Path:
    return state_dir / "server.lock"


def _info_path(state_dir: Path) -> Path:
    return state_dir / "server.json"


def _held(state_dir: Path) -> bool:
    """Whether a live process holds the folder's server lock."""
    path = _lock_path(state_dir)
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


class ServerClaim:
    """The serving process's hold on its folder: the lock, and the description others read."""

    def __init__(self, state_dir: Path, handle: IO[str]) -> None:
        self.state_dir = state_dir
        self._handle = handle

    @classmethod
    def take(cls, state_dir: Path) -> ServerClaim | None:
        """The claim, or None when another live process serves this folder."""
        _make_folder(state_dir)
        handle = open(_lock_path(state_dir), "a+")  # noqa: SIM115 - held for the server's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        # a server killed with `kill -9` left its description: no one may take it for this one's
        _info_path(state_dir).unlink(missing_ok=True)
        return cls(state_dir, handle)

    def announce(self, base_url: str, ca_path: Path) -> None:
        info = {"base_url": base_url, "ca_path": str(ca_path), "pid": os.getpid()}
        temporary = _info_path(self.state_dir).with_suffix(".tmp")
        temporary.write_text(json.dumps(info))
        temporary.replace(_info_path(self.state_dir))

    def release(self) -> None:
        _info_path(self.state_dir).unlink(missing_ok=True)
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def running(state_dir: Path) -> RunningEmulator | None:
    """The emulator serving this folder now, if one is."""
    if not _held(state_dir):
        return None
    try:
        info = json.loads(_info_path(state_dir).read_text())
    except (OSError, ValueError):
        return None  # started, not announced yet
    return RunningEmulator(info["base_url"], Path(info["ca_path"]), int(info["pid"]))


@contextmanager
def _starting(state_dir: Path) -> Iterator[None]:
    _make_folder(state_dir)
    with open(state_dir / "starting.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_running(state_dir: Path, command: Sequence[str], timeout: float = START_TIMEOUT) -> RunningEmulator:
    """The folder's emulator, started in the background with `command` when none runs yet."""
    with _starting(state_dir):
        found = running(state_dir)
        if found is not None:
            return found
        log = open(state_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, close_fds=True)
        log.close()
        ticker = threading.Event()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = running(state_dir)
            if found is not None:
                return found
            if process.poll() is not None:
                raise EmulatorUnavailable(
                    f"the bundled emulator did not start (see {state_dir / 'server.log'})")
            ticker.wait(0.05)
        process.terminate()
        raise EmulatorUnavailable(f"the bundled emulator did not start within {timeout:.0f} s")


def serve_in_background(state_dir: Path, *options: str) -> RunningEmulator:
    """`tandem emulator serve` for `state_dir` on a free port (with `options`), started in the
    background unless one serves that folder already."""
    return ensure_running(state_dir, [sys.executable, "-m", "tandem", "emulator", "serve", "--state-dir", str(state_dir),
                                      "--port", "0", *options])


def stop_running(state_dir: Path, timeout: float = 30.0) -> RunningEmulator | None:
    """Stop the folder's emulator (it saves its state first); returns what was stopped, if anything."""
    found = running(state_dir)
    if found is None:
        return None
    try:
        os.kill(found.pid, signal.SIGTERM)
    except ProcessLookupError:
        return found
    ticker = threading.Event()
    deadline = time.monotonic() + timeout
    while _held(state_dir) and time.monotonic() < deadline:
        ticker.wait(0.05)
    if _held(state_dir):
        raise EmulatorUnavailable(f"the emulator (pid {found.pid}) did not stop within {timeout:.0f} s")
    return found
