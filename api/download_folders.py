"""Where written downloads wait to be sent: one folder per server process.

:class:`DownloadFolders` keeps the files written for downloads in one place,
``<tempdir>/ccn-gis-downloads-<uid>/<pid>/``, and removes the leftovers of servers that
were killed when a new one starts.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("ccn_gis_api.limits")  # the log of the bounds on heavy work

LOCK_FILE = ".lock"
"""Locked (``flock``) by the server whose folder holds it, as long as it runs: the lock
goes with the process, even killed with ``kill -9``."""


def default_download_root() -> Path:
    """``<tempdir>/ccn-gis-downloads-<uid>``: one folder per user of the machine."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"ccn-gis-downloads-{uid}"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (unknown → True: nothing is removed on a guess)."""
    if os.name != "posix":
        return True  # no signal 0 to ask with: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, run by someone else
        return True
    return True


def _lock_is_free(folder: Path) -> bool | None:
    """Whether nobody holds the lock of ``folder`` (None: no lock file, or no locks here)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        handle = (folder / LOCK_FILE).open("rb")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


class DownloadFolders:
    """The folder where this process writes downloads, one subfolder per download.

    The root (default :func:`default_download_root`) holds one subfolder per server
    process, named by its process id and locked (``flock``) while the process lives. At
    start the subfolders of processes that are gone — a server killed with ``kill -9``
    leaves its files behind — are removed; at exit the process removes its own.

    Use :meth:`for_process`: one instance per root and process.
    """

    _instances: dict[tuple[Path, int], DownloadFolders] = {}
    _instances_lock = threading.Lock()

    def __init__(self, root: Path | None = None) -> None:
        self.root = self._usable_root(root)
        self.folder = self.root / str(os.getpid())
        if self.folder.exists():  # a dead process had the same id
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(mode=0o700)
        self._lock_handle = self._lock(self.folder)
        self.removed = self.sweep()
        """The leftover subfolders removed at start."""
        atexit.register(self.close)

    @classmethod
    def for_process(cls, root: Path | None = None) -> DownloadFolders:
        """The folders of this process under ``root`` (default :func:`default_download_root`)."""
        key = (Path(root) if root is not None else default_download_root(), os.getpid())
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(root)
            return cls._instances[key]

    @staticmethod
    def _usable_root(root: Path | None) -> Path:
        """``root`` (made if need be), or the default one when it is a real folder of this
        user — in a shared temporary folder another user could have made it, or made it a
        link — else a fresh private folder. Subfolders are private (0700) either way."""
        if root is not None:
            root = Path(root)
            root.mkdir(parents=True, exist_ok=True)
            return root
        root = default_download_root()
        try:
            root.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(root)
            own = not hasattr(os, "getuid") or info.st_uid == os.getuid()
            if root.is_symlink() or not root.is_dir() or not own:
                raise PermissionError(f"{root} is not a folder of this user")
            return root
        except OSError as err:
            fresh = Path(tempfile.mkdtemp(prefix="ccn-gis-downloads-"))
            log.warning("downloads: cannot use %s (%s); using %s", root, err, fresh)
            return fresh

    @staticmethod
    def _lock(folder: Path) -> Any:
        """Lock ``folder`` for the life of this process (None where there are no locks).

        The lock file gets its name only once locked: a sweep never sees it unlocked.
        """
        try:
            import fcntl
        except ImportError:
            return None
        unnamed = folder / f"{LOCK_FILE}.{threading.get_ident()}"
        handle = unnamed.open("wb")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(unnamed, folder / LOCK_FILE)
        return handle

    def sweep(self) -> list[Path]:
        """Remove the subfolders of server processes that are no longer running.

        A subfolder goes when its lock file is not locked (its server is gone, even if its
        process id now names another program, or a zombie) or, without a lock file (a
        system without ``flock``), when no process has its id.
        """
        removed: list[Path] = []
        try:
            children = list(self.root.iterdir())
        except OSError:
            return removed
        for child in children:
            if not child.name.isdigit() or child == self.folder or not child.is_dir():
                continue  # not a server's folder: never remove what is not ours
            free = _lock_is_free(child)
            if free is False:
                continue  # its server holds the lock: it runs
            if free or not _pid_alive(int(child.name)):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        if removed:
            log.warning("downloads: removed %d leftover folder(s) of stopped servers in %s",
                        len(removed), self.root)
        return removed

    def new(self) -> Path:
        """A new empty subfolder for one download; the caller removes it."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="download-", dir=self.folder))

    def downloads(self) -> list[Path]:
        """The download subfolders that exist now."""
        return sorted(p for p in self.folder.glob("download-*") if p.is_dir())

    def close(self) -> None:
        """Remove this process's folder (at exit)."""
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None
        shutil.rmtree(self.folder, ignore_errors=True)
