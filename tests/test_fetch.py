"""Tests of ccdlab.data.fetch (synthetic default, downloads from a local HTTP server) and ccdlab.data.manifest."""

from __future__ import annotations

import argparse
import doctest
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.io import fits

from ccdlab.data import fetch, manifest
from ccdlab.data.archive import safe_extract
from ccdlab.data.sorting import sort_frames
from ccdlab.data import download as dl
from ccdlab import cli
from ccdlab.commands import fetch as fetch_command
from ccdlab.data.fetch import DatasetExistsError, FetchError, FetchReport
from ccdlab.data.manifest import ManifestError
from ccdlab.data.simulate import make_night


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    return make_night(tmp_path_factory.mktemp("source") / "night", size="tiny", progress=False)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/www on 127.0.0.1; /truncated/NAME sends half of NAME and hangs up."""
    root = tmp_path / "www"
    root.mkdir()
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):  # keep the test output clean
            pass

        def do_GET(self):
            if self.path.startswith("/truncated/"):
                body = (root / self.path[len("/truncated/"):]).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(root=root, url=f"http://127.0.0.1:{httpd.server_port}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def frame_bytes(data: np.ndarray, **cards) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(data=data, header=fits.Header(cards)).writeto(buffer)
    return buffer.getvalue()


def night_members(night: Path) -> dict[str, bytes]:
    """A realistic archive's content: two of each raw frame in one folder (no folder hints),
    plus a dark, an untyped frame, a damaged frame and a README."""
    members = {}
    for folder, count in (("bias", 2), ("flats", 2), ("science", 1)):
        for path in sorted((night / folder).glob("*.fits"))[:count]:
            members[f"night/all/{path.name}"] = path.read_bytes()
    small = np.zeros((8, 8), dtype=np.uint16)
    members["night/all/dark_60s.fits"] = frame_bytes(small, IMAGETYP="dark", EXPTIME=60.0)
    members["night/all/mystery.fits"] = frame_bytes(small, EXPTIME=30.0)
    members["night/all/broken.fits"] = b"SIMPLE  =                    T" + b" " * 50
    members["night/README.txt"] = b"GIT night of 2018-10-13\n"
    return members


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, **({"compresslevel": 1} if mode.endswith("gz") else {})) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def assert_untouched(dest: Path):
    """The destination holds no dataset part and no staging leftovers."""
    if dest.exists():
        leftovers = [p.name for p in dest.iterdir() if p.name != "reduced"]
        assert leftovers == [], f"left behind: {leftovers}"


# --- downloads --------------------------------------------------------------------------------


def test_zip_download_sorts_frames_and_reports(server, night, tmp_path, cache):
    write_zip(server.root / "night.zip", night_members(night))
    dest = tmp_path / "data"
    report = fetch.fetch_url(f"{server.url}/night.zip", dest, progress=False, cache=cache)
    assert report.status == "downloaded"
    assert {k: len(v) for k, v in report.placed.items()} == {"bias": 2, "darks": 1, "flats": 2, "science": 1}
    aside = dict(report.left_aside)
    assert set(aside) == {"README.txt", "mystery.fits", "broken.fits"}
    assert "not a FITS frame" in aside["README.txt"] and "unreadable" in aside["broken.fits"]
    assert len(list((dest / "bias").glob("*.fits"))) == 2
    assert (dest / "unsorted" / "mystery.fits").is_file()
    assert report.sha256[0] == manifest.sha256_file(server.root / "night.zip")
    assert f"--sha256 {report.sha256[0]}" in report.message
    text = report.summary()
    assert "bias/" in text and "mystery.fits" in text
    meta = manifest.read_manifest(dest)["meta"]
    assert meta["kind"] == "download" and meta["sources"] == [f"{server.url}/night.zip"]
    assert manifest.verify_manifest(dest) == []
    assert not list(dest.glob(".ccdlab-*"))
    again = fetch.fetch_url(f"{server.url}/night.zip", dest, progress=False, cache=cache)
    assert again.status == "verified"


def test_tar_gz_with_pinned_hash(server, night, tmp_path, cache):
    archive = write_tar(server.root / "night.tar.gz", night_members(night))
    digest = manifest.sha256_file(archive)
    dest = tmp_path / "data"
    report = fetch.fetch_url(f"{server.url}/night.tar.gz", dest, sha256=digest.upper(), progress=False, cache=cache)
    assert report.status == "downloaded" and report.sha256 == [digest]
    assert "To pin" not in report.message
    assert sorted(p.name for p in dest.iterdir()) == ["bias", "darks", "flats", "manifest.json", "science", "unsorted"]


def test_single_fits_files(server, night, tmp_path, cache):
    bias = sorted((night / "bias").glob("*.fits"))[0]
    science = sorted((night / "science").glob("*.fits"))[0]
    (server.root / bias.name).write_bytes(bias.read_bytes())
    (server.root / science.name).write_bytes(science.read_bytes())
    dest = tmp_path / "data"
    report = fetch.fetch_url([f"{server.url}/{bias.name}", f"{server.url}/{science.name}"], dest, progress=False, cache=cache)
    assert report.placed == {"bias": [bias.name], "science": [science.name]}
    assert (dest / "science" / science.name).read_bytes() == science.read_bytes()


def test_wrong_hash_writes_nothing(server, night, tmp_path, cache):
    write_zip(server.root / "night.zip", night_members(night))
    dest = tmp_path / "data"
    with pytest.raises(FetchError, match="does not match the expected SHA-256"):
        fetch.fetch_url(f"{server.url}/night.zip", dest, sha256="0" * 64, progress=False, cache=cache)
    assert_untouched(dest)
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_corrupt_archive_writes_nothing_and_leaves_no_cache(server, night, tmp_path, cache):
    good = write_zip(tmp_path / "good.zip", night_members(night)).read_bytes()
    corrupt = bytearray(good)
    corrupt[2000:2400] = b"\0" * 400  # damage the first frame's bytes: its CRC fails
    (server.root / "corrupt.zip").write_bytes(bytes(corrupt))
    dest = tmp_path / "data"
    (dest / "reduced").mkdir(parents=True)
    with pytest.raises(FetchError, match="damaged"):
        fetch.fetch_url(f"{server.url}/corrupt.zip", dest, progress=False, cache=cache)
    assert_untouched(dest)
    assert not any(p.is_file() for p in cache.rglob("*")), "a damaged download is not kept"
    (server.root / "truncated.tar.gz").write_bytes(write_tar(tmp_path / "t.tar.gz", night_members(night)).read_bytes()[:5000])
    with pytest.raises(FetchError, match="damaged|neither"):
        fetch.fetch_url(f"{server.url}/truncated.tar.gz", dest, progress=False, cache=cache)
    (server.root / "page.zip").write_bytes(b"<html>Not found</html>")
    with pytest.raises(FetchError, match="neither a zip or tar archive nor a FITS file"):
        fetch.fetch_url(f"{server.url}/page.zip", dest, progress=False, cache=cache)
    assert_untouched(dest)


def test_interrupted_download_writes_nothing(server, night, tmp_path, cache):
    write_zip(server.root / "night.zip", night_members(night))
    dest = tmp_path / "data"
    with pytest.raises(FetchError, match="failed"):
        fetch.fetch_url(f"{server.url}/truncated/night.zip", dest, progress=False, cache=cache)
    assert_untouched(dest)
    assert not any(p.is_file() for p in cache.rglob("*")) if cache.exists() else True


def test_missing_file_on_server(server, tmp_path, cache):
    with pytest.raises(FetchError, match="failed"):
        fetch.fetch_url(f"{server.url}/nothing.zip", tmp_path / "data", progress=False, cache=cache)
    assert_untouched(tmp_path / "data")


@pytest.mark.parametrize(
    "name, message",
    [("../evil.fits", "climbs out"), ("/tmp/evil.fits", "absolute path"), ("night\\..\\..\\evil.fits", "climbs out")],
)
def test_path_traversal_zip_is_refused(server, tmp_path, cache, name, message):
    write_zip(server.root / "evil.zip", {"night/ok.txt": b"x", name: b"SIMPLE"})
    dest = tmp_path / "inner" / "data"
    with pytest.raises(FetchError, match=message):
        fetch.fetch_url(f"{server.url}/evil.zip", dest, progress=False, cache=cache)
    assert_untouched(dest)
    assert not (tmp_path / "evil.fits").exists() and not (tmp_path / "inner" / "evil.fits").exists()


def test_tar_with_absolute_path_or_outward_link_is_refused(server, tmp_path, cache):
    archive = server.root / "abs.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("/etc/evil.fits")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(FetchError, match="absolute path"):
        fetch.fetch_url(f"{server.url}/abs.tar", tmp_path / "data", progress=False, cache=cache)
    archive = server.root / "link.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("night/bias/link.fits")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../outside.fits"
        tf.addfile(info)
    with pytest.raises(FetchError, match="link pointing out"):
        fetch.fetch_url(f"{server.url}/link.tar", tmp_path / "data", progress=False, cache=cache)
    archive = server.root / "hard.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("night/hard.fits")
        info.type = tarfile.LNKTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(FetchError, match="link pointing out"):
        fetch.fetch_url(f"{server.url}/hard.tar", tmp_path / "data", progress=False, cache=cache)
    assert_untouched(tmp_path / "data")


def test_existing_dataset_needs_force(server, night, tmp_path, cache):
    write_zip(server.root / "night.zip", night_members(night))
    dest = make_night(tmp_path / "data", size="tiny", progress=False)
    (dest / "reduced").mkdir()
    (dest / "reduced" / "mine.fits").write_bytes(b"mine")
    before = (dest / "manifest.json").read_bytes()
    with pytest.raises(DatasetExistsError, match="--force"):
        fetch.fetch_url(f"{server.url}/night.zip", dest, progress=False, cache=cache)
    assert (dest / "manifest.json").read_bytes() == before
    report = fetch.fetch_url(f"{server.url}/night.zip", dest, force=True, progress=False, cache=cache)
    assert report.status == "downloaded"
    assert not (dest / "truth").exists(), "the synthetic truth does not linger beside real data"
    assert (dest / "reduced" / "mine.fits").read_bytes() == b"mine"
    assert len(list((dest / "science").iterdir())) == 1


def test_fetch_url_bad_inputs(tmp_path):
    with pytest.raises(FetchError, match="No URL"):
        fetch.fetch_url([], tmp_path)
    with pytest.raises(FetchError, match="one --sha256 per --url"):
        fetch.fetch_url(["http://127.0.0.1:9/a.zip"], tmp_path, sha256=["0" * 64, "1" * 64])
    with pytest.raises(FetchError, match="64 hex digits"):
        fetch.fetch_url("http://127.0.0.1:9/a.zip", tmp_path, sha256="xyz")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        fetch.fetch_url("http://127.0.0.1:9/a.zip", tmp_path / "file")


def test_archive_without_frames_is_refused(server, tmp_path, cache):
    write_zip(server.root / "notes.zip", {"notes/readme.txt": b"hello"})
    with pytest.raises(FetchError, match="no frames ccdlab could type"):
        fetch.fetch_url(f"{server.url}/notes.zip", tmp_path / "data", progress=False, cache=cache)
    write_zip(server.root / "empty.zip", {})
    with pytest.raises(FetchError, match="held no files"):
        fetch.fetch_url(f"{server.url}/empty.zip", tmp_path / "data", progress=False, cache=cache)
    assert_untouched(tmp_path / "data")


def test_download_bad_inputs(tmp_path):
    with pytest.raises(FetchError, match="neither a file nor a URL"):
        dl.download("gopher://example.org/a.zip")
    with pytest.raises(FetchError, match="64 hex digits"):
        dl.download("https://example.org/a.zip", sha256="abc")
    with pytest.raises(FetchError, match="does not exist"):
        dl.download(str(tmp_path / "none.zip"))
    os.mkfifo(tmp_path / "pipe.zip")
    with pytest.raises(FetchError, match="named pipe"):
        dl.download(f"file://{tmp_path / 'pipe.zip'}")


def test_a_local_file_is_used_in_place_and_checked(tmp_path):
    path = tmp_path / "night.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    digest = manifest.sha256_file(path)
    assert dl.download(str(path)) == path and dl.download(f"file://{path}", sha256=digest) == path
    with pytest.raises(FetchError, match="does not match the expected SHA-256"):
        dl.download(str(path), sha256="0" * 64)
    assert path.read_bytes() == b"PK\x05\x06" + bytes(18)


def test_download_reuses_cache(server, tmp_path, cache):
    (server.root / "a.fits").write_bytes(frame_bytes(np.zeros((4, 4)), IMAGETYP="flat"))
    first = dl.download(f"{server.url}/a.fits", progress=False, cache=cache)
    (server.root / "a.fits").unlink()
    assert dl.download(f"{server.url}/a.fits", progress=False, cache=cache) == first


def test_safe_extract_skips_inner_links_and_refuses_special_files(tmp_path):
    archive = tmp_path / "inner.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("night/bias/a.fits")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
        link = tarfile.TarInfo("night/bias/b.fits")
        link.type = tarfile.SYMTYPE
        link.linkname = "a.fits"
        tf.addfile(link)
    files = safe_extract(archive, tmp_path / "out")
    assert [p.name for p in files] == ["a.fits"]
    assert not (tmp_path / "out" / "night" / "bias" / "b.fits").exists()
    fifo = tmp_path / "fifo.tar"
    with tarfile.open(fifo, "w") as tf:
        info = tarfile.TarInfo("night/pipe")
        info.type = tarfile.FIFOTYPE
        tf.addfile(info)
    with pytest.raises(FetchError, match="special file"):
        safe_extract(fifo, tmp_path / "out2")
    assert not (tmp_path / "out2" / "night").exists()


@pytest.fixture
def old_tarfile(monkeypatch):
    """Python before 3.10.12 / 3.11.4: no tarfile.data_filter, extractall() knows no filter."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)

    def extractall(self, *args, **kwargs):
        raise AssertionError("the fallback must not call extractall")

    monkeypatch.setattr(tarfile.TarFile, "extractall", extractall)


def test_safe_extract_without_data_filter_copies_checked_members(tmp_path, old_tarfile):
    archive = tmp_path / "night.tar.gz"
    write_tar(archive, {"night/bias/a.fits": b"abc", "night/flats/b.fits": b"de" * 1000})
    with tarfile.open(tmp_path / "links.tar", "w") as tf:
        info = tarfile.TarInfo("night/bias/a.fits")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"xyz"))
        folder = tarfile.TarInfo("night/empty")
        folder.type = tarfile.DIRTYPE
        tf.addfile(folder)
        link = tarfile.TarInfo("night/bias/b.fits")
        link.type = tarfile.SYMTYPE
        link.linkname = "a.fits"
        tf.addfile(link)
    files = safe_extract(archive, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in files] == ["night/bias/a.fits", "night/flats/b.fits"]
    assert files[1].read_bytes() == b"de" * 1000
    files = safe_extract(tmp_path / "links.tar", tmp_path / "out2")
    assert [p.name for p in files] == ["a.fits"] and files[0].read_bytes() == b"xyz"
    assert (tmp_path / "out2" / "night" / "empty").is_dir() and not (tmp_path / "out2" / "night" / "bias" / "b.fits").exists()


@pytest.mark.parametrize(
    "name, kind, linkname, message",
    [
        ("../evil.fits", tarfile.REGTYPE, "", "climbs out"),
        ("night/../../evil.fits", tarfile.REGTYPE, "", "climbs out"),
        ("/tmp/evil.fits", tarfile.REGTYPE, "", "absolute path"),
        ("night/link.fits", tarfile.SYMTYPE, "../../evil.fits", "link pointing out"),
        ("night/hard.fits", tarfile.LNKTYPE, "/etc/passwd", "link pointing out"),
        ("night/disk", tarfile.BLKTYPE, "", "special file"),
    ],
)
def test_safe_extract_without_data_filter_refuses_unsafe_tar(tmp_path, old_tarfile, name, kind, linkname, message):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        ok = tarfile.TarInfo("night/ok.fits")
        ok.size = 1
        tf.addfile(ok, io.BytesIO(b"x"))
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, linkname
        info.size = 1 if kind == tarfile.REGTYPE else 0
        tf.addfile(info, io.BytesIO(b"x") if kind == tarfile.REGTYPE else None)
    target = tmp_path / "deep" / "out"
    with pytest.raises(FetchError, match=message):
        safe_extract(archive, target)
    assert list(target.iterdir()) == []  # nothing written, not even the safe member
    assert not (tmp_path / "evil.fits").exists() and not (tmp_path / "deep" / "evil.fits").exists()


def test_safe_extract_refuses_zip_symlink(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("night/link.fits")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "../../etc/passwd")
    with pytest.raises(FetchError, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")


def test_safe_extract_checks_disk_space(tmp_path, monkeypatch):
    archive = write_zip(tmp_path / "a.zip", {"a.fits": b"x" * 1000})
    monkeypatch.setattr(fetch.shutil, "disk_usage", lambda path: SimpleNamespace(free=10, total=10, used=0))
    with pytest.raises(FetchError, match="free some space"):
        safe_extract(archive, tmp_path / "out")


def test_safe_extract_refuses_single_fits(tmp_path):
    path = tmp_path / "a.fits"
    path.write_bytes(frame_bytes(np.zeros((4, 4))))
    with pytest.raises(FetchError, match="single FITS file"):
        safe_extract(path, tmp_path / "out")


def test_sort_frames_disambiguates_names(tmp_path):
    for night_name in ("n1", "n2"):
        folder = tmp_path / "in" / "00" / night_name / "bias"
        folder.mkdir(parents=True)
        (folder / "b.fits").write_bytes(frame_bytes(np.zeros((4, 4)), IMAGETYP="zero"))
    placed, aside = sort_frames(tmp_path / "in", tmp_path / "stage")
    assert placed == {"bias": ["b.fits", "n2_bias_b.fits"]} and aside == []


def test_sort_frames_takes_folder_hints_only_from_inside_the_archive(tmp_path):
    # the download was unpacked below a folder named science/: that says nothing about the frames
    extracted = tmp_path / "science" / "unpacked"
    extracted.mkdir(parents=True)
    (extracted / "x.fits").write_bytes(frame_bytes(np.zeros((4, 4))))
    (extracted / "flats").mkdir()
    (extracted / "flats" / "f.fits").write_bytes(frame_bytes(np.zeros((4, 4))))
    placed, aside = sort_frames(extracted, tmp_path / "stage")
    assert placed == {"flats": ["f.fits"]}
    assert [name for name, _ in aside] == ["x.fits"]


# --- the synthetic default --------------------------------------------------------------------


def test_fetch_default_creates_then_verifies(tmp_path):
    dest = tmp_path / "data"
    assert fetch.fetch_default(dest, size="tiny", progress=False) == dest
    first = (dest / "manifest.json").read_bytes()
    report = fetch.ensure_default(dest, size="tiny", progress=False)
    assert report.status == "verified" and "nothing to do" in report.message
    assert (dest / "manifest.json").read_bytes() == first


def test_fetch_default_completes_a_night_made_by_an_older_ccdlab(tmp_path):
    """A verified night whose manifest lacks a part this version makes (catalog/) is rebuilt: same frames."""
    import json
    import shutil

    dest = tmp_path / "data"
    fetch.fetch_default(dest, size="tiny", progress=False)
    frames = {p.name: p.read_bytes() for p in sorted((dest / "science").glob("*.fits"))}
    manifest_path = dest / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("catalog/")}
    manifest_path.write_text(json.dumps(manifest))
    shutil.rmtree(dest / "catalog")
    (dest / "reduced").mkdir()
    report = fetch.ensure_default(dest, progress=False)
    assert report.status == "created" and "catalog/" in report.message and "older ccdlab" in report.message
    assert (dest / "catalog" / "reference_catalog.ecsv").is_file() and (dest / "reduced").is_dir()
    assert {p.name: p.read_bytes() for p in sorted((dest / "science").glob("*.fits"))} == frames
    assert fetch.ensure_default(dest, size="tiny", progress=False).status == "verified"


def test_fetch_default_uses_the_resolved_data_folder(tmp_path, monkeypatch):
    (tmp_path / "env-data").mkdir()  # an existing CCDLAB_DATA wins even when the project's data/ exists
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "env-data"))
    assert fetch.fetch_default(size="tiny", progress=False) == (tmp_path / "env-data").resolve()
    assert (tmp_path / "env-data" / "manifest.json").is_file()


def test_fetch_default_refuses_other_dataset_and_damage(tmp_path):
    dest = fetch.fetch_default(tmp_path / "data", size="tiny", progress=False)
    with pytest.raises(DatasetExistsError, match="tiny synthetic night.*--force"):
        fetch.fetch_default(dest, size="tiny", seed=5, progress=False)
    victim = sorted((dest / "bias").glob("*.fits"))[0]
    victim.unlink()
    with pytest.raises(ManifestError, match=f"bias/{victim.name} is missing.*--force"):
        fetch.fetch_default(dest, size="tiny", progress=False)
    report = fetch.ensure_default(dest, size="tiny", force=True, progress=False)
    assert report.status == "created" and victim.is_file()


def test_fetch_default_keeps_your_own_frames(tmp_path):
    dest = tmp_path / "data"
    (dest / "bias").mkdir(parents=True)
    (dest / "bias" / "mine.fits").write_bytes(frame_bytes(np.zeros((4, 4))))
    report = fetch.ensure_default(dest, size="tiny", progress=False)
    assert report.status == "kept" and "left alone" in report.message
    assert (dest / "bias" / "mine.fits").is_file() and not (dest / "manifest.json").exists()
    assert fetch.ensure_default(dest, size="tiny", progress=False, force=True).status == "created"
    assert not (dest / "bias" / "mine.fits").exists()


def test_fetch_default_over_empty_folders_and_after_interruption(tmp_path):
    dest = tmp_path / "data"
    for name in ("bias", "flats", "science"):
        (dest / name).mkdir(parents=True)
    assert fetch.ensure_default(dest, size="tiny", progress=False).status == "created"
    (dest / manifest.INSTALLING_MARKER).write_text("bias\n")
    (dest / "manifest.json").unlink()
    report = fetch.ensure_default(dest, size="tiny", progress=False)
    assert report.status == "created" and "interrupted" in report.message
    assert manifest.verify_manifest(dest) == [] and not (dest / manifest.INSTALLING_MARKER).exists()


def test_fetch_default_keeps_a_verified_download(server, night, tmp_path, cache):
    write_zip(server.root / "night.zip", night_members(night))
    dest = tmp_path / "data"
    fetch.fetch_url(f"{server.url}/night.zip", dest, progress=False, cache=cache)
    assert fetch.ensure_default(dest, progress=False).status == "kept"
    assert fetch.ensure_default(dest, size="workshop", progress=False).status == "kept"
    with pytest.raises(DatasetExistsError, match="downloaded from"):
        fetch.ensure_default(dest, size="tiny", progress=False)
    next((dest / "science").glob("*.fits")).unlink()
    report = fetch.ensure_default(dest, progress=False)
    assert report.status == "changed"
    assert f"python data_fetch.py --force --url {server.url}/night.zip --sha256 " in report.message


def test_fetch_default_bad_inputs(tmp_path):
    with pytest.raises(FetchError, match="Unknown size"):
        fetch.fetch_default(tmp_path, size="huge")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        fetch.fetch_default(tmp_path / "file", size="tiny")


def test_report_summary_lists_folders_and_left_aside(tmp_path):
    report = FetchReport(tmp_path, "downloaded", placed={"bias": ["a.fits"], "flats": ["b.fits", "c.fits"]},
                         left_aside=[("x.fits", "no IMAGETYP")], message="Done.")
    text = report.summary()
    assert text.splitlines()[0] == "Done."
    assert "bias/      1 file" in text and "flats/     2 files" in text and "x.fits: no IMAGETYP" in text


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path / "c"))
    assert dl.cache_dir() == tmp_path / "c"
    monkeypatch.delenv(dl.CACHE_ENV)
    assert dl.cache_dir().name == "ccdlab"


# --- command line -----------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    fetch_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_creates_and_verifies(tmp_path, capsys):
    assert cli.run_command("fetch", parse("--size", "tiny", "--dest", str(tmp_path / "d"), "--no-progress")) == 0
    assert "Wrote the tiny synthetic night" in capsys.readouterr().out
    assert cli.run_command("fetch", parse("--size", "tiny", "--dest", str(tmp_path / "d"))) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_run_downloads(server, night, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(dl.CACHE_ENV, str(tmp_path / "cache"))
    archive = write_zip(server.root / "night.zip", night_members(night))
    code = cli.run_command("fetch", parse("--url", f"{server.url}/night.zip", "--sha256", manifest.sha256_file(archive),
                           "--dest", str(tmp_path / "d"), "--no-progress"))
    assert code == 0
    assert "flats/" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sha256", "0" * 64], "together with --url"),
        (["--url", "http://127.0.0.1:9/a.zip", "--seed", "3"], "synthetic night only"),
        (["--seed", "-2"], "zero or a positive"),
        (["--url", "http://127.0.0.1:9/a.zip", "--sha256", "12"], "64 hex digits"),
    ],
)
def test_run_bad_options_print_one_sentence(tmp_path, capsys, argv, message):
    assert cli.run_command("fetch", parse(*argv, "--dest", str(tmp_path / "d"), "--no-progress")) == 1
    err = capsys.readouterr().err
    assert err.startswith("ccdlab fetch: ") and message in err and "Traceback" not in err


def test_run_existing_other_dataset(tmp_path, capsys):
    fetch.fetch_default(tmp_path / "d", size="tiny", progress=False)
    assert cli.run_command("fetch", parse("--size", "workshop", "--dest", str(tmp_path / "d"), "--no-progress")) == 1
    err = capsys.readouterr().err
    assert "--force" in err and str(tmp_path / "d") in err and err.count("\n") == 1
    assert cli.run_command("fetch", parse("--seed", "5", "--dest", str(tmp_path / "d"), "--no-progress")) == 1  # --seed is strict too
    assert "not the workshop synthetic night (seed 5)" in capsys.readouterr().err


def test_run_without_size_keeps_any_verified_night(tmp_path, capsys):
    dest = fetch.fetch_default(tmp_path / "d", size="tiny", progress=False)
    before = (dest / "manifest.json").stat().st_mtime_ns
    assert cli.run_command("fetch", parse("--dest", str(dest), "--no-progress")) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "holds the tiny synthetic night" in out and "nothing to do" in out
    assert (dest / "manifest.json").stat().st_mtime_ns == before


def test_run_without_size_creates_the_workshop_night(tmp_path, capsys, monkeypatch):
    calls = []

    def make_night(dest, size, seed, progress, overwrite, camera="cool"):  # the workshop night itself takes 260 MB
        calls.append((size, seed))
        return make_night_real(dest, size="tiny", seed=seed, progress=progress, overwrite=overwrite, camera=camera)

    make_night_real = fetch.make_night
    monkeypatch.setattr(fetch, "make_night", make_night)
    assert cli.run_command("fetch", parse("--dest", str(tmp_path / "d"), "--no-progress")) == 0
    assert calls == [("workshop", fetch.DEFAULT_SEED)]
    assert "Wrote the workshop synthetic night" in capsys.readouterr().out


def test_run_without_size_leaves_your_own_frames(tmp_path, capsys):
    (tmp_path / "d" / "science").mkdir(parents=True)
    (tmp_path / "d" / "science" / "m31.fits").write_bytes(frame_bytes(np.zeros((4, 4))))
    assert cli.run_command("fetch", parse("--dest", str(tmp_path / "d"), "--no-progress")) == 0
    assert "left alone" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "d").rglob("*")) == ["m31.fits", "science"]


def changed_night(tmp_path) -> tuple[Path, Path, Path]:
    """A tiny night where a student opened a flat with mode='update' and a bias went missing."""
    dest = fetch.fetch_default(tmp_path / "d", size="tiny", progress=False)
    flat = sorted((dest / "flats").glob("*.fits"))[1]
    with fits.open(flat, mode="update") as hdul:
        hdul[0].header["OBSERVER"] = "student"
    gone = sorted((dest / "bias").glob("*.fits"))[0]
    gone.unlink()
    return dest, flat, gone


def test_run_without_size_warns_about_changed_files_and_starts(tmp_path, capsys):
    dest, flat, gone = changed_night(tmp_path)
    touched = flat.read_bytes()
    assert cli.run_command("fetch", parse("--dest", str(dest), "--no-progress")) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("Warning: ") and captured.err.count("\n") == 1
    assert f"flats/{flat.name} has changed" in captured.err and f"bias/{gone.name} is missing" in captured.err
    assert f"python data_fetch.py --force --size tiny --dest {dest}" in captured.err
    assert flat.read_bytes() == touched and not gone.exists()  # nothing was changed
    report = fetch.ensure_default(dest, progress=False)
    assert report.status == "changed" and "2 file(s)" in report.message


def test_run_with_size_refuses_changed_files(tmp_path, capsys):
    dest, flat, gone = changed_night(tmp_path)
    assert cli.run_command("fetch", parse("--size", "tiny", "--dest", str(dest), "--no-progress")) == 1
    err = capsys.readouterr().err
    assert err.startswith("ccdlab fetch: ") and err.count("\n") == 1 and flat.name in err and "--force --size tiny" in err
    assert cli.run_command("fetch", parse("--force", "--size", "tiny", "--dest", str(dest), "--no-progress")) == 0
    assert gone.exists() and manifest.verify_manifest(dest) == []


def test_run_disk_errors_are_one_sentence(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "d" / "bias"))

    monkeypatch.setattr(fetch, "ensure_default", full)
    assert cli.run_command("fetch", parse("--dest", str(tmp_path / "d"))) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "free disk space" in err


# --- manifest ---------------------------------------------------------------------------------


def test_manifest_roundtrip_and_problems(tmp_path):
    (tmp_path / "bias").mkdir()
    (tmp_path / "bias" / "a.fits").write_bytes(b"a" * 10)
    (tmp_path / "bias" / ".hidden").write_bytes(b"h")
    (tmp_path / "notes.txt").write_text("n")
    path = manifest.write_manifest(tmp_path, ["bias", "notes.txt"], {"kind": "demo"})
    data = json.loads(path.read_text())
    assert set(data["files"]) == {"bias/a.fits", "notes.txt"} and data["format"] == manifest.MANIFEST_FORMAT
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert manifest.verify_manifest(tmp_path) == []
    (tmp_path / "bias" / "a.fits").write_bytes(b"b" * 10)
    assert manifest.verify_manifest(tmp_path, checksums=False) == []
    assert manifest.verify_manifest(tmp_path) == ["bias/a.fits has changed (its SHA-256 checksum differs)"]
    (tmp_path / "bias" / "a.fits").write_bytes(b"b")
    assert "has 1 bytes, expected 10" in manifest.verify_manifest(tmp_path)[0]
    (tmp_path / "notes.txt").unlink()
    assert "notes.txt is missing" in manifest.verify_manifest(tmp_path)


def test_manifest_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ccdlab dataset manifest"):
        manifest.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="damaged"):
        manifest.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ManifestError, match="not a ccdlab manifest"):
        manifest.verify_manifest(tmp_path)
    with pytest.raises(ManifestError, match="does not exist"):
        manifest.build_manifest(tmp_path, ["nothing"])
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("x")
    try:
        with pytest.raises(ManifestError, match="outside"):
            manifest.build_manifest(tmp_path, [outside])
    finally:
        outside.unlink()


def test_sha256_file_matches_hashlib(tmp_path):
    import hashlib

    data = os.urandom(5 * 1024 * 1024 + 3)
    (tmp_path / "f").write_bytes(data)
    assert manifest.sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_staging_folder_cleans_up(tmp_path):
    with pytest.raises(RuntimeError):
        with manifest.staging_folder(tmp_path / "new") as stage:
            (stage / "bias").mkdir()
            raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()
    with manifest.staging_folder(tmp_path) as stage:
        assert stage.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_remove_stale_staging_only_for_dead_processes(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".ccdlab-staging-{done.stdout.strip()}-abc"
    alive = tmp_path / f".ccdlab-staging-{os.getpid()}-abc"
    dead.mkdir()
    alive.mkdir()
    assert manifest.remove_stale_staging(tmp_path) == [dead]
    assert alive.is_dir() and not dead.exists()
    assert manifest.remove_stale_staging(tmp_path / "missing") == []


def test_move_into_place_rules(tmp_path):
    dest = tmp_path / "data"
    (dest / "bias").mkdir(parents=True)
    (dest / "truth").mkdir()
    with manifest.staging_folder(dest) as stage:
        (stage / "bias").mkdir()
        (stage / "manifest.json").write_text("{}")
        with pytest.raises(FileExistsError, match="already holds bias"):
            manifest.move_into_place(stage, dest, ["manifest.json", "bias"])
        with pytest.raises(FileNotFoundError, match="lacks them"):
            manifest.move_into_place(stage, dest, ["flats"])
        placed = manifest.move_into_place(stage, dest, ["manifest.json", "bias"], replace=True, discard=["truth"])
        assert [p.name for p in placed] == ["bias", "manifest.json"]
    assert sorted(p.name for p in dest.iterdir()) == ["bias", "manifest.json"]


@pytest.mark.parametrize("module", [fetch, manifest])
def test_docstring_examples_run(module):
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


# --- the warm camera, and nights made before lesson 08 -------------------------------------------


def test_camera_option_makes_the_warm_night_and_the_manifest_says_so(tmp_path, capsys):
    dest = tmp_path / "warm"
    assert cli.run_command("fetch", parse("--size", "tiny", "--camera", "warm", "--dest", str(dest), "--no-progress")) == 0
    assert "warm camera" in capsys.readouterr().out
    assert manifest.read_manifest(dest)["meta"]["camera"] == "warm" and (dest / "darks").is_dir()
    assert fetch.ensure_default(dest, size="tiny", camera="warm", progress=False).status == "verified"
    with pytest.raises(DatasetExistsError, match="warm camera"):
        fetch.ensure_default(dest, size="tiny", progress=False)
    assert fetch.ensure_default(dest, progress=False).status == "verified", "no --size: any verified night is kept"
    (dest / "darks" / sorted(os.listdir(dest / "darks"))[0]).write_bytes(b"changed")
    with pytest.raises(ManifestError, match="--camera warm"):
        fetch.ensure_default(dest, size="tiny", camera="warm", progress=False)


def test_camera_option_is_for_the_synthetic_night_only(capsys):
    assert cli.run_command("fetch", parse("--url", "file:///x.zip", "--camera", "warm")) == 1
    assert "--camera applies to the synthetic night only" in capsys.readouterr().err
    with pytest.raises(FetchError, match="Unknown camera"):
        fetch.ensure_default("unused", size="tiny", camera="hot", progress=False)


def test_a_night_made_before_lesson_08_gains_its_camera_test(tmp_path):
    dest = make_night(tmp_path / "old", size="tiny", progress=False)
    before = {p: p.read_bytes() for p in sorted(dest.glob("*/*.fits")) if p.parent.name in ("bias", "flats", "science")}
    shutil_rmtree = __import__("shutil").rmtree
    shutil_rmtree(dest / "detector")
    meta = manifest.read_manifest(dest)["meta"]
    meta.pop("camera")
    manifest.write_manifest(dest, ["bias", "flats", "science", "truth"], meta)  # as an older ccdlab wrote it
    (dest / "reduced").mkdir()
    (dest / "reduced" / "mine.txt").write_text("kept")
    report = fetch.ensure_default(dest, size="tiny", progress=False)
    assert report.status == "created" and "rebuilt it with detector/, catalog/" in report.message
    assert "same bytes; reduced/ is kept" in report.message
    assert (dest / "detector" / "ptc").is_dir() and (dest / "reduced" / "mine.txt").read_text() == "kept"
    assert {p: p.read_bytes() for p in before} == before
    assert fetch.ensure_default(dest, size="tiny", progress=False).status == "verified"


def test_an_older_night_whose_frames_were_redrawn_keeps_its_results_aside(tmp_path):
    """A newer simulator drew the frames differently: the results made from the old ones are moved, not mixed in."""
    import json

    from astropy.io import fits

    from ccdlab.files import file_hash

    dest = make_night(tmp_path / "old", size="tiny", progress=False)
    path = dest / "manifest.json"
    old = json.loads(path.read_text())
    old["files"] = {k: v for k, v in old["files"].items() if not k.startswith("catalog/")}
    first_bias = sorted(k for k in old["files"] if k.startswith("bias/"))[0]
    with fits.open(dest / first_bias, mode="update") as hdul:  # as the old simulator drew it
        hdul[0].data[0, 0] += 1
    old["files"][first_bias] = {"bytes": (dest / first_bias).stat().st_size, "sha256": file_hash(dest / first_bias)}
    path.write_text(json.dumps(old))
    (dest / "reduced").mkdir()
    (dest / "reduced" / "master_bias.fits").write_text("made from the old frames")
    report = fetch.ensure_default(dest, size="tiny", progress=False)
    assert report.status == "created" and "1 of its frames were redrawn" in report.message
    aside = [p for p in dest.iterdir() if p.name.startswith("reduced-before-")]
    assert len(aside) == 1 and aside[0].name in report.message
    assert (aside[0] / "master_bias.fits").read_text() == "made from the old frames" and not (dest / "reduced").exists()
    assert fetch.ensure_default(dest, size="tiny", progress=False).status == "verified"
