"""Files written safely and read carefully: atomic writes, permissions, checksums, special files.

Every file ccdlab writes goes through :func:`atomic_output`: it is written to a temporary file in
the target folder and renamed into place, so a crash, a full disk or Ctrl-C leave the old file or
the new one, never half of one, and never a stray temporary file. New files get the permissions a
plain ``open`` would give under the user's umask (:func:`file_mode`), not ``mkstemp``'s 0600.

Checksums are SHA-256, computed by pooch (:func:`file_hash`). :func:`regular_file_problem` tells
the files ccdlab can read (regular files and links to them) from the ones it must not open: a FIFO
would block a reader forever, a link loop raises.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ccdlab.errors import OverwriteRefusedError

__all__ = ["umask", "file_mode", "atomic_output", "atomic_write_text", "atomic_write_bytes", "file_hash",
           "regular_file_problem"]


def umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux).

    Examples
    --------
    >>> 0 <= umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def file_mode(executable: bool = False, directory: bool = False) -> int:
    """The permission bits a new file (or folder) gets under the current umask, e.g. 0o644.

    Examples
    --------
    >>> file_mode() & 0o600
    384
    """
    return (0o777 if executable or directory else 0o666) & ~umask()


def _write_error(path: Path, exc: OSError) -> OverwriteRefusedError:
    reason = exc.strerror or str(exc)
    if not path.parent.is_dir():
        return OverwriteRefusedError(f"Could not write {path}: the folder {path.parent} does not exist and could not be "
                                     f"created ({reason}). Create it, or choose another output folder.")
    return OverwriteRefusedError(f"Could not write {path} ({reason}): the folder {path.parent} is read-only or not "
                                 "yours. Make it writable (chmod u+w), or choose another output folder.")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Write a file atomically: yield a temporary path beside ``path``, rename it into place at the end.

    The temporary file lives in the target folder (so the rename is atomic), gets the permissions a
    plain ``open`` would (:func:`file_mode`) and is removed if the block raises.

    Raises
    ------
    ccdlab.errors.OverwriteRefusedError
        The folder cannot be created or written (read-only, immutable, not yours): the message
        names it and says what to do.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with atomic_output(Path(tmp) / "notes.txt") as part:
    ...         _ = part.write_text("done")
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['notes.txt']
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        if exc.errno not in (1, 2, 13, 17, 20, 30):  # EPERM ENOENT EACCES EEXIST ENOTDIR EROFS
            raise
        raise _write_error(path, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (UTF-8) atomically; see :func:`atomic_output`.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_text(Path(tmp) / "a.csv", "x,y").read_text()
    'x,y'
    """
    with atomic_output(path) as part:
        with open(part, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write a binary file atomically; see :func:`atomic_output`.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_bytes(Path(tmp) / "a.bin", b"ok").read_bytes()
    b'ok'
    """
    with atomic_output(path) as part:
        Path(part).write_bytes(data)
    return Path(path)


def file_hash(path: str | os.PathLike) -> str:
    """The SHA-256 checksum of a file, as 64 lowercase hex digits (:func:`pooch.file_hash`).

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "a.txt"
    ...     _ = p.write_bytes(b"abc")
    ...     file_hash(p)[:16]
    'ba7816bf8f01cfea'
    """
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


def regular_file_problem(path: str | os.PathLike) -> str:
    """Why ``path`` cannot be read as a file (a FIFO, a device, a link loop, a dangling link), or "".

    Reading a FIFO blocks forever and a link loop raises deep inside a library: ccdlab checks
    with this before it opens anything it did not write itself.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     os.mkfifo(Path(tmp) / "pipe.fits")
    ...     regular_file_problem(Path(tmp) / "pipe.fits")
    'a named pipe (FIFO), not a file'
    """
    path = Path(path)
    try:
        info = path.stat()  # follows links
    except RuntimeError:  # pathlib's "Symlink loop" on some Pythons
        return "a symbolic link that loops back on itself"
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "a symbolic link that loops back on itself"
        if path.is_symlink():
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISREG(info.st_mode):
        return ""
    if stat.S_ISFIFO(info.st_mode):
        return "a named pipe (FIFO), not a file"
    if stat.S_ISDIR(info.st_mode):
        return "a folder, not a file"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket, not a file"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return "a device, not a file"
    return "not a regular file"
