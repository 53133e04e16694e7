"""Tests of ccdlab.camera: options, then plausible header values, then the course camera's defaults."""

import math

import pytest
from astropy.io import fits

from ccdlab.camera import (
    DEFAULT_GAIN,
    DEFAULT_READNOISE,
    DEFAULT_SATLEVEL,
    CameraError,
    CameraParameters,
    CameraWarning,
    camera_parameters,
)


def test_defaults_are_the_course_camera():
    cam = camera_parameters()
    assert (cam.gain, cam.readnoise, cam.satlevel) == (1.6, 14.0, 96000.0) == (DEFAULT_GAIN, DEFAULT_READNOISE, DEFAULT_SATLEVEL)
    assert (cam.gain_source, cam.readnoise_source, cam.satlevel_source) == ("default",) * 3
    assert cam.satlevel_adu == 60000.0


def test_options_win_over_header():
    header = fits.Header({"GAIN": 2.0, "RDNOISE": 5.0, "SATURATE": 50000})
    cam = camera_parameters(header, gain=1.2, readnoise=7, satlevel=80000)
    assert (cam.gain, cam.readnoise, cam.satlevel) == (1.2, 7.0, 80000.0)
    assert cam.gain_source == cam.readnoise_source == cam.satlevel_source == "option"


def test_header_values_are_used_when_plausible():
    cam = camera_parameters(fits.Header({"EGAIN": "2.5", "READNOIS": 8.0, "SATURATE": 40000}))
    assert cam.gain == 2.5 and cam.gain_source == "header EGAIN"
    assert cam.readnoise == 8.0 and cam.readnoise_source == "header READNOIS"
    assert cam.satlevel == 100000.0 and cam.satlevel_source == "header SATURATE x gain"  # ADU -> e-


def test_junk_gain_is_rejected_with_a_warning():
    header = fits.Header({"GAIN": -9.1e-36})  # what the GROWTH-India camera writes
    with pytest.warns(CameraWarning, match=r"GAIN = -9.1e-36 is not a plausible gain"):
        cam = camera_parameters(header)
    assert cam.gain == 1.6 and cam.gain_source == "default"


def test_junk_first_keyword_falls_through_to_the_next():
    with pytest.warns(CameraWarning) as record:
        cam = camera_parameters(fits.Header({"GAIN": 0.0, "EGAIN": 1.9, "RDNOISE": "n/a"}))
    assert cam.gain_source == "header EGAIN" and cam.readnoise_source == "default"
    assert ["GAIN = 0.0" in str(w.message) or "RDNOISE = 'n/a'" in str(w.message) for w in record] == [True, True]


def test_blank_header_values_are_skipped_silently(recwarn):
    cam = camera_parameters(fits.Header({"GAIN": "  ", "RDNOISE": True}))
    assert cam.gain_source == "default"
    assert cam.readnoise_source == "default"  # a boolean is not a number: warned about
    assert [w.category for w in recwarn.list] == [CameraWarning]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gain": 0}, "gain must be a positive number"),
        ({"gain": -1.6}, "gain must be a positive number"),
        ({"gain": math.nan}, "gain must be a positive number"),
        ({"gain": "fast"}, "gain must be a positive number"),
        ({"readnoise": -1}, "read noise must be zero or more"),
        ({"satlevel": 0}, "saturation level must be a positive number"),
    ],
)
def test_impossible_options_raise(kwargs, message):
    with pytest.raises(CameraError, match=message):
        camera_parameters(**kwargs)


def test_an_impossible_option_says_which_option_to_pass():
    with pytest.raises(CameraError) as error:
        camera_parameters(gain=0.0)
    assert str(error.value) == (
        "The gain must be a positive number of e-/ADU, got 0.0: pass the camera's value, e.g. --gain 1.6 "
        "(or gain=1.6 in Python)."
    )
    with pytest.raises(CameraError, match=r"got -1: pass the camera's value, e\.g\. --readnoise 14 \(or readnoise=14 in "):
        camera_parameters(readnoise=-1)
    with pytest.raises(CameraError, match=r"e\.g\. --satlevel 96000 \(or satlevel=96000 in Python\)\.$"):
        camera_parameters(satlevel=-5)


def test_zero_read_noise_is_allowed():
    assert camera_parameters(readnoise=0).readnoise == 0.0


def test_describe_and_as_dict():
    cam = CameraParameters(2.0, 5.0, 90000.0, "option", "header RDNOISE", "default")
    assert cam.describe() == "gain 2 e-/ADU (option), read noise 5 e- (header RDNOISE), saturation 90000 e- (default)"
    assert cam.as_dict()["readnoise_source"] == "header RDNOISE"
