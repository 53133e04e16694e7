"""Getting one file of a real night: downloaded with pooch into a cache, or a local file, always verified.

A URL is downloaded once into the cache (:func:`cache_dir`, or ``$CCDLAB_CACHE``) by pooch, which
writes to a temporary name and renames on success, so the cache never holds half a file; a
checksum mismatch deletes it. A local archive (a path, or a ``file://`` URL) is read where it is.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import tarfile
import zlib
from pathlib import Path
from urllib.parse import unquote, urlparse

from ccdlab.errors import FetchError
from ccdlab.files import file_hash, regular_file_problem

__all__ = ["CACHE_ENV", "HEX64", "cache_dir", "local_file", "download", "file_kind"]

#: Environment variable naming the download cache (default: the system cache folder).
CACHE_ENV = "CCDLAB_CACHE"

#: A SHA-256 checksum: 64 hex digits.
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def local_file(url: str) -> Path | None:
    """The local file a ``file://`` URL or a plain path names, or None for a remote URL.

    Examples
    --------
    >>> local_file("file:///tmp/night.zip").as_posix()
    '/tmp/night.zip'
    >>> local_file("https://example.org/night.zip") is None
    True
    """
    parsed = urlparse(str(url))
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("", ) or (len(parsed.scheme) == 1 and os.name == "nt"):  # a path (C:\ on Windows)
        return Path(str(url)).expanduser()
    return None


def _checked_local(path: Path, sha256: str | None) -> Path:
    if not path.exists():
        raise FetchError(f"{path} does not exist: check the path of the archive.")
    problem = regular_file_problem(path)
    if problem:
        raise FetchError(f"{path} is {problem}: give the archive or FITS file itself.")
    if sha256 is not None and file_hash(path) != sha256.lower():
        raise FetchError(f"{path} does not match the expected SHA-256 {sha256}; nothing was written. Check the "
                         "--sha256 value and that this is the right file.")
    return path


def cache_dir() -> Path:
    """Return the download cache: ``$CCDLAB_CACHE`` or the system cache folder for ccdlab.

    Examples
    --------
    >>> cache_dir().name in ("ccdlab", os.environ.get(CACHE_ENV, "ccdlab").rstrip("/").split("/")[-1])
    True
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("ccdlab"))


def download(url: str, sha256: str | None = None, progress: bool = True, cache: str | os.PathLike | None = None) -> Path:
    """Get ``url`` into the cache with pooch (or reuse the cached copy) and check its SHA-256.

    A local file (a path, or a ``file://`` URL) is used where it is, after the same check: it is
    never copied into the cache nor changed.

    Parameters
    ----------
    url : str
        An http(s) or ftp URL, a ``file://`` URL, or the path of a local file.
    sha256 : str, optional
        The expected SHA-256 (64 hex digits). A mismatch deletes the download.
    progress : bool
        Show a progress bar.
    cache : path-like, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    pathlib.Path
        The cached file. pooch writes to a temporary name and renames on success, so the cache
        never holds half a download.

    Raises
    ------
    FetchError
        Bad URL or checksum, connection failure, or a checksum mismatch.

    Examples
    --------
    >>> download("https://example.org/night.zip", sha256="abc")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ccdlab.errors.FetchError: The SHA-256 'abc' is not 64 hex digits...
    """
    import pooch
    import requests

    if sha256 is not None and not HEX64.match(sha256):
        raise FetchError(f"The SHA-256 {sha256!r} is not 64 hex digits: copy it again from where the data is published.")
    local = local_file(url)
    if local is not None:
        return _checked_local(local, sha256)
    if urlparse(url).scheme not in ("http", "https", "ftp", "sftp", "doi"):
        raise FetchError(f"{url!r} is neither a file nor a URL ccdlab can download (give a path, or a URL starting "
                         "with http://, https:// or file://).")
    cache = Path(cache) if cache is not None else cache_dir()
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        path = pooch.retrieve(
            url, known_hash=f"sha256:{sha256.lower()}" if sha256 else None, path=cache, progressbar=progress
        )
    except ValueError as exc:
        raise FetchError(
            f"The file downloaded from {url} does not match the expected SHA-256 {sha256}; it was deleted and "
            "nothing was written. Check the --sha256 value and the URL (the file may have changed on the server)."
        ) from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise FetchError(
            f"Downloading {url} failed ({reason}); nothing was written. Check the URL and your network "
            "connection, then run the command again."
        ) from exc
    finally:
        logger.setLevel(level)
    return Path(path)


def file_kind(path: Path) -> str:
    """What a downloaded file holds, from its first bytes: ``'zip'``, ``'tar'``, ``'fits'`` or ``'fits.gz'``.

    Raises
    ------
    ccdlab.errors.FetchError
        It is none of these (damaged, or an HTML error page).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.fits").write_bytes(b"SIMPLE  =                    T" + b" " * 2850)
    ...     file_kind(Path(tmp) / "a.fits")
    'fits'
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(2880)
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return "zip"
        if head.startswith(b"SIMPLE  ="):
            return "fits"
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                inner = handle.read(512)
            if inner.startswith(b"SIMPLE  ="):
                return "fits.gz"
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise FetchError(f"{path.name} is damaged ({exc}).") from exc
    raise FetchError(
        f"{path.name} is neither a zip or tar archive nor a FITS file (it may be damaged, or an HTML error "
        "page): check the URL."
    )
