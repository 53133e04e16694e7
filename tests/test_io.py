import gzip
import os
import shutil

import numpy as np
import pytest
from astropy.io import fits

from ccdlab import io


def uint16_frame(path, data=None, **cards):
    if data is None:
        data = (np.arange(30 * 20).reshape(30, 20) + 40000).astype(np.uint16)
    hdu = fits.PrimaryHDU(data)
    for key, value in cards.items():
        hdu.header[key] = value
    hdu.writeto(path)
    return data


def test_reads_uint16_bzero_frame_as_float32(tmp_path):
    data = uint16_frame(tmp_path / "a.fits", IMAGETYP="dark")
    assert fits.getheader(tmp_path / "a.fits")["BZERO"] == 32768
    frame, header = io.read_frame(tmp_path / "a.fits")
    assert frame.dtype == np.float32
    np.testing.assert_array_equal(frame, data.astype(np.float32))
    assert header["IMAGETYP"] == "dark"
    assert "BZERO" not in header and "BSCALE" not in header


@pytest.mark.parametrize("suffix", [".fit", ".fts"])
def test_other_suffixes(tmp_path, suffix):
    data = uint16_frame(tmp_path / f"a{suffix}")
    np.testing.assert_array_equal(io.read_frame(tmp_path / f"a{suffix}")[0], data)


def test_gzip_compressed(tmp_path):
    data = uint16_frame(tmp_path / "a.fits")
    with open(tmp_path / "a.fits", "rb") as src, gzip.open(tmp_path / "a.fits.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    np.testing.assert_array_equal(io.read_frame(tmp_path / "a.fits.gz")[0], data)


def test_tile_compressed_and_first_image_hdu(tmp_path):
    data = (np.arange(64 * 48).reshape(64, 48) % 5000 + 200).astype(np.uint16)
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header=fits.Header({"EXPTIME": 30.0}))])
    hdul[0].header["DATE-OBS"] = "2018-10-13T13:04:40"
    hdul.writeto(tmp_path / "a.fits.fz")
    frame, header = io.read_frame(tmp_path / "a.fits.fz")
    np.testing.assert_array_equal(frame, data)
    assert header["EXPTIME"] == 30.0
    merged = io.read_header(tmp_path / "a.fits.fz")
    assert merged["DATE-OBS"] == "2018-10-13T13:04:40"
    assert io.frame_shape(tmp_path / "a.fits.fz") == (64, 48)
    np.testing.assert_array_equal(io.read_rows(tmp_path / "a.fits.fz", 10, 20), data[10:20])


def test_read_rows(tmp_path):
    data = uint16_frame(tmp_path / "a.fits")
    block = io.read_rows(tmp_path / "a.fits", 5, 9)
    assert block.dtype == np.float32
    np.testing.assert_array_equal(block, data[5:9])


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.read_frame(tmp_path / "nope.fits")


@pytest.mark.parametrize("name", ["a.fits", "notes.txt", ".DS_Store"])
def test_not_fits_is_to_be_moved_out(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x00\x00\x00\x01Bud1" if name == ".DS_Store" else b"hello, this is not FITS")
    for read in (io.read_header, io.read_frame):
        with pytest.raises(io.FrameError) as info:
            read(tmp_path / name)
        assert str(info.value) == (
            f"{tmp_path / name} is not a FITS file (it does not start like one): move it out of {tmp_path}, "
            "it is not a camera frame."
        )
        assert info.value.kind == "not_frame"


def test_move_it_out_names_an_absolute_folder(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("seeing 1.2")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(io.FrameError, match=f"move it out of {tmp_path}, it is not"):
        io.read_header("notes.txt")


def test_an_empty_file_is_damaged(tmp_path):
    (tmp_path / "a.fits").write_bytes(b"")
    with pytest.raises(io.FrameError, match=r"a.fits could not be read as FITS .*It is damaged: download or copy it again\.$") as info:
        io.read_frame(tmp_path / "a.fits")
    assert info.value.kind == "damaged" and "move it out" not in str(info.value)


def test_a_file_that_may_not_be_read(tmp_path, monkeypatch):
    uint16_frame(tmp_path / "a.fits")

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(io.fits, "open", refuse)
    for read in (io.read_header, io.read_frame):
        with pytest.raises(io.FrameError) as info:
            read(tmp_path / "a.fits")
        assert str(info.value) == (
            f"{tmp_path / 'a.fits'} cannot be read (Permission denied): check its permissions "
            f"(e.g. chmod u+r {tmp_path / 'a.fits'}) or copy the data somewhere you own."
        )
        assert info.value.kind == "permission"


def test_truncated_file(tmp_path):
    uint16_frame(tmp_path / "a.fits", data=np.ones((200, 200), np.uint16))
    raw = (tmp_path / "a.fits").read_bytes()
    (tmp_path / "b.fits").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(io.FrameError, match="b.fits") as info:
        io.read_frame(tmp_path / "b.fits")
    assert info.value.kind == "damaged"


def test_table_only_or_empty_file_is_to_be_moved_out(tmp_path):
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.ones(3))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(tmp_path / "t.fits")
    fits.PrimaryHDU().writeto(tmp_path / "empty.fits")
    for name in ("t.fits", "empty.fits"):
        with pytest.raises(io.FrameError) as info:
            io.read_frame(tmp_path / name)
        assert str(info.value) == (
            f"{tmp_path / name} holds no image HDU (only tables or empty HDUs): move it out of {tmp_path}, "
            "it is not a camera frame."
        )
        assert info.value.kind == "not_frame" and "?" not in str(info.value)


def test_cube_is_refused(tmp_path):
    fits.PrimaryHDU(np.zeros((2, 3, 4), np.float32)).writeto(tmp_path / "c.fits")
    with pytest.raises(io.FrameError, match="cube"):
        io.read_frame(tmp_path / "c.fits")


def test_folder_is_refused(tmp_path):
    with pytest.raises(io.FrameError, match="folder"):
        io.read_frame(tmp_path)


def test_write_frame_roundtrip_with_history(tmp_path):
    raw = tmp_path / "science" / "a.fits"
    raw.parent.mkdir()
    uint16_frame(raw, OBJECT="M31")
    data, header = io.read_frame(raw)
    out = io.write_frame(tmp_path / "reduced" / "a.fb.fits", data - 270, header,
                         history=["Bias subtracted", "Flat fielded"], inputs=[raw])
    back, new_header = io.read_frame(out)
    np.testing.assert_allclose(back, data - 270)
    assert new_header["OBJECT"] == "M31"
    assert "BZERO" not in fits.getheader(out)
    assert fits.getheader(out)["BITPIX"] == -32
    history = list(new_header["HISTORY"])
    assert history[:2] == ["Bias subtracted", "Flat fielded"] and "input: a.fits" in history
    # the raw frame is untouched
    assert fits.getheader(raw)["BZERO"] == 32768


def test_write_frame_rerun_is_safe(tmp_path):
    out = io.write_frame(tmp_path / "m.fits", np.ones((4, 4)))
    io.write_frame(out, np.full((4, 4), 2.0))
    assert io.read_frame(out)[0][0, 0] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["m.fits"]  # no temporary files left


def test_write_frame_refuses_raw_folder(tmp_path):
    (tmp_path / "bias").mkdir()
    with pytest.raises(PermissionError, match="raw-data folder"):
        io.write_frame(tmp_path / "bias" / "master.fits", np.ones((4, 4)))


def test_write_frame_refuses_its_input(tmp_path):
    uint16_frame(tmp_path / "a.fits")
    with pytest.raises(PermissionError, match="input frame"):
        io.write_frame(tmp_path / "a.fits", np.ones((4, 4)), inputs=[tmp_path / "a.fits"])


def test_write_frame_never_replaces_a_foreign_file(tmp_path):
    data = uint16_frame(tmp_path / "a.fits")
    before = (tmp_path / "a.fits").read_bytes()
    with pytest.raises(PermissionError, match="not written by ccdlab"):
        io.write_frame(tmp_path / "a.fits", np.ones((4, 4)))
    assert (tmp_path / "a.fits").read_bytes() == before
    assert data is not None


def test_write_frame_overwrite_false(tmp_path):
    io.write_frame(tmp_path / "m.fits", np.ones((4, 4)))
    with pytest.raises(FileExistsError):
        io.write_frame(tmp_path / "m.fits", np.ones((4, 4)), overwrite=False)


def test_write_frame_rejects_non_image(tmp_path):
    with pytest.raises(ValueError, match="2-D"):
        io.write_frame(tmp_path / "m.fits", np.ones(4))


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    hdul = fits.HDUList([fits.PrimaryHDU(np.ones((4, 4)))])

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", explode)
    with pytest.raises(OSError, match="disk full"):
        io.atomic_write_hdul(hdul, tmp_path / "x.fits")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name,ok", [("a.fits", True), ("A.FIT", True), ("b.fits.fz", True), ("c.fits.gz", True), ("d.txt", False), ("e.fits.bak", False)])
def test_is_fits_name(name, ok):
    assert io.is_fits_name(name) is ok


def test_truncated_frame_is_named_as_truncated(tmp_path):
    uint16_frame(tmp_path / "a.fits", data=np.ones((300, 300), np.uint16))
    raw = (tmp_path / "a.fits").read_bytes()
    (tmp_path / "b.fits").write_bytes(raw[: len(raw) - 5000])
    for read in (io.read_header, io.read_frame):
        with pytest.raises(io.FrameError, match=r"b.fits is truncated.*Download or copy it again") as info:
            read(tmp_path / "b.fits")
        assert info.value.kind == "damaged"


def test_a_file_without_final_padding_still_reads(tmp_path):
    data = uint16_frame(tmp_path / "a.fits", data=np.arange(100 * 7, dtype=np.uint16).reshape(100, 7))
    raw = (tmp_path / "a.fits").read_bytes()
    (tmp_path / "b.fits").write_bytes(raw[: 2880 + data.size * 2])  # header + data, no padding
    np.testing.assert_array_equal(io.read_frame(tmp_path / "b.fits")[0], data)


def test_not_fits_message_has_no_developer_advice(tmp_path):
    (tmp_path / "a.fits").write_text("hello")
    with pytest.raises(io.FrameError) as info:
        io.read_frame(tmp_path / "a.fits")
    assert "ignore_missing_simple" not in str(info.value) and "is not a FITS file (it does not start like one)" in str(info.value)


def test_write_frame_sees_through_dotdot_and_links(tmp_path):
    (tmp_path / "flats" / "sub").mkdir(parents=True)
    with pytest.raises(PermissionError, match="raw-data folder"):
        io.write_frame(tmp_path / "flats" / "sub" / ".." / "x.fits", np.ones((4, 4)))
    (tmp_path / "bias").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "bias")
    with pytest.raises(PermissionError, match="raw-data folder"):
        io.write_frame(tmp_path / "out" / "x.fits", np.ones((4, 4)))
    assert list((tmp_path / "bias").iterdir()) == [] and not (tmp_path / "flats" / "x.fits").exists()


def test_outputs_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        out = io.write_frame(tmp_path / "m.fits", np.ones((4, 4)))
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644
