"""Extracting a downloaded archive safely: nothing lands outside its folder, nothing absurdly large.

Zip and tar archives from the internet can hold absolute paths, ``..``, links out of the folder,
device files, or a few kilobytes that expand to gigabytes. :func:`safe_extract` judges every
member first and writes only when the whole archive is acceptable.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ccdlab.data.download import file_kind
from ccdlab.errors import FetchError

__all__ = ["MAX_RATIO", "MIN_SUSPECT_BYTES", "safe_extract"]

#: An archive expanding to more than this many times its own size is refused (noisy camera frames
#: compress 1.5-4 times; a zip bomb of zeros a thousand times).
MAX_RATIO = 50

#: ... when it also expands to more than this (small archives of text compress well and are harmless).
MIN_SUSPECT_BYTES = 100_000_000


def _safe_member(name: str, archive: str) -> PurePosixPath:
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
        raise FetchError(f"{archive} holds an absolute path ({name!r}); refusing to extract it. Nothing was written.")
    parts = PurePosixPath(cleaned).parts
    if ".." in parts:
        raise FetchError(f"{archive} holds a path that climbs out of its folder ({name!r}); refusing to extract it. Nothing was written.")
    return PurePosixPath(*[p for p in parts if p not in ("", ".")]) if parts else PurePosixPath(".")


def _check_zip_member(member: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    """The one place zip members are judged: return where it goes, or refuse the archive."""
    rel = _safe_member(member.filename, archive)
    if (member.external_attr >> 16) & 0o170000 == 0o120000:
        raise FetchError(
            f"{archive} holds a symbolic link ({member.filename!r}); refusing to extract it. Nothing was written."
        )
    return rel


def _check_tar_member(member: tarfile.TarInfo, archive: str) -> PurePosixPath | None:
    """The one place tar members are judged: where it goes, None to skip it, or refuse the archive.

    Absolute paths, ``..``, links pointing out of the folder and special files (devices, pipes)
    refuse the whole archive; links that stay inside are skipped (frames never need them).
    """
    rel = _safe_member(member.name, archive)
    if member.issym() or member.islnk():
        link = member.linkname.replace("\\", "/")
        base = rel.parent if member.issym() else PurePosixPath(".")
        resolved = os.path.normpath(str(base / link)) if not link.startswith("/") else link
        if link.startswith("/") or re.match(r"^[A-Za-z]:", link) or resolved == ".." or resolved.startswith("../"):
            raise FetchError(
                f"{archive} holds a link pointing out of its folder ({member.name!r} -> "
                f"{member.linkname!r}); refusing to extract it. Nothing was written."
            )
        return None
    if not (member.isfile() or member.isdir()):
        raise FetchError(f"{archive} holds a special file ({member.name!r}); refusing to extract it. Nothing was written.")
    return rel


def _write_member(source, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with source as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    return out


def _check_size(total: int, packed: int, target: Path, archive: str) -> None:
    """Refuse, before writing anything, an archive too big for the disk or absurdly compressed (a zip bomb)."""
    if total > MAX_RATIO * max(packed, 1) and total > MIN_SUSPECT_BYTES:
        raise FetchError(
            f"{archive} would expand {packed / 1e6:.1f} MB into {total / 1e9:.2f} GB, {total / max(packed, 1):.0f} "
            f"times its size: camera frames never compress that well, so this looks like a decompression bomb. "
            "Nothing was written; check where the archive came from."
        )
    free = shutil.disk_usage(target).free
    if total > free:
        raise FetchError(
            f"{archive} needs {total / 1e6:.0f} MB but only {free / 1e6:.0f} MB are free at {target}; free some "
            "space or choose another --dest."
        )


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Extract a zip or tar archive into ``target``, refusing anything that would land outside it.

    Absolute paths, ``..`` components, links pointing out of ``target``, special files (devices,
    pipes), and archives that expand to more than the free space or to more than
    :data:`MAX_RATIO` times their own size (a decompression bomb) are refused before anything is
    written. Links inside the archive
    are not extracted. Where Python's tar ``data`` filter exists (3.10.12+, 3.11.4+, 3.12+) it
    is applied too; on older patch releases the same member checks guard a plain file-by-file copy.

    Parameters
    ----------
    archive : path-like
        A ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2`` or ``.tar.xz`` file.
    target : path-like
        An empty folder to extract into (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files extracted.

    Raises
    ------
    FetchError
        The archive is unsafe or damaged, or the disk is too full.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with zipfile.ZipFile(Path(tmp) / "a.zip", "w") as zf:
    ...         zf.writestr("bias/b1.txt", "x")
    ...     [p.name for p in safe_extract(Path(tmp) / "a.zip", Path(tmp) / "out")]
    ['b1.txt']
    """
    archive, target = Path(archive), Path(target)
    kind = file_kind(archive)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                chosen = [(member, _check_zip_member(member, archive.name)) for member in zf.infolist()]
                _check_size(sum(m.file_size for m, _ in chosen), archive.stat().st_size, target, archive.name)
                for member, rel in chosen:
                    if member.is_dir():
                        (target / rel).mkdir(parents=True, exist_ok=True)
                    else:
                        written.append(_write_member(zf.open(member), target / rel))
        elif kind == "tar":
            with tarfile.open(archive) as tf:
                checked = [(member, _check_tar_member(member, archive.name)) for member in tf.getmembers()]
                chosen = [(member, rel) for member, rel in checked if rel is not None]
                _check_size(sum(m.size for m, _ in chosen), archive.stat().st_size, target, archive.name)
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(target, members=[m for m, _ in chosen], filter="data")
                    written = [target / rel for m, rel in chosen if m.isfile()]
                else:  # Python < 3.10.12 / 3.11.4: no extraction filter; the checks above stand alone
                    for member, rel in chosen:
                        if member.isdir():
                            (target / rel).mkdir(parents=True, exist_ok=True)
                        else:
                            written.append(_write_member(tf.extractfile(member), target / rel))
        else:
            raise FetchError(f"{archive.name} is a single FITS file, not an archive: nothing to extract.")
    except FetchError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise FetchError(
            f"{archive.name} is damaged ({exc}); nothing was written. Run the command again to download it afresh."
        ) from exc
    return sorted(written)
