"""Answer catalogue of lesson 03: a median combine by hand, the master bias, the read noise and a master's noise."""

import math

import numpy as np
from astropy.stats import sigma_clip, sigma_clipped_stats

from catalogue import mistake, solution, valid

LESSON = "03_master_bias"


# --- 3.1: median_combine -----------------------------------------------------------------------

def stack_median(frames):
    return np.median(np.stack(frames), axis=0)


def nanmedian(frames):
    return np.nanmedian(np.array(frames), axis=0)


def percentile(frames):
    return np.percentile(frames, 50, axis=0)


def pixel_by_pixel(frames):
    cube = np.stack(frames)
    out = np.empty(cube.shape[1:])
    for y in range(cube.shape[1]):
        for x in range(cube.shape[2]):
            values = sorted(cube[:, y, x])
            middle = len(values) // 2
            out[y, x] = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return out


def mean(frames):
    return np.mean(np.stack(frames), axis=0)


def median_axis1(frames):
    return np.median(np.stack(frames), axis=1)


def median_no_axis(frames):
    return np.median(frames)


def middle_value(frames):  # no average of the two middle values for an even count
    return np.sort(np.stack(frames), axis=0)[len(frames) // 2]


def prints(frames):
    print(np.median(np.stack(frames), axis=0))


def shape_of_a_list(frames):
    return np.median(frames, axis=frames.ndim - 3)


def first_frame(frames):
    return frames[0]


def combine(f):
    return {"median_combine": f}


# --- 3.2, 3.3, 3.4 ---------------------------------------------------------------------------

def frames(c):
    return c.bias_frames


def master(m):
    return {"master_bias": m}


def level_taken_out(image):
    return image - np.median(image)


def clipped_std(values):
    return sigma_clipped_stats(values)[2]


def read_noise(c):
    return clipped_std(frames(c)[0] - frames(c)[1]) / np.sqrt(2)


def rn(value):
    return {"read_noise_adu": value}


def noise_of_master(c, master_of=stack_median, first=None, last=None, combine_noise=None):
    f = frames(c)
    n = len(f) - 1
    master_n = master_of(f[:n]) if first is None else first
    other = f[n] if last is None else last
    difference_noise = clipped_std(master_n - other)
    r = read_noise(c)
    combine_noise = combine_noise or (lambda d, r: np.sqrt(d ** 2 - r ** 2))
    with np.errstate(invalid="ignore"):
        value = combine_noise(difference_noise, r)
    return {"master_noise_adu": value}


CASES = {
    "3.1": [
        solution("np.median(np.stack(frames), axis=0)", lambda c: combine(stack_median)),
        valid("np.nanmedian of an array", lambda c: combine(nanmedian)),
        valid("np.percentile(..., 50, axis=0)", lambda c: combine(percentile)),
        valid("sorting each pixel's values by hand", lambda c: combine(pixel_by_pixel)),
        mistake("the mean", lambda c: combine(mean), "That is the mean"),
        mistake("the median along axis=1", lambda c: combine(median_axis1), "axis=0"),
        mistake("np.median without axis: one number", lambda c: combine(median_no_axis), "without axis="),
        mistake("the middle value without averaging for an even count", lambda c: combine(middle_value), "even number"),
        mistake("prints the median instead of returning it", lambda c: combine(prints), "returns nothing"),
        mistake("treats the list as an array (raises)", lambda c: combine(shape_of_a_list), "raised AttributeError"),
        mistake("returns the first frame", lambda c: combine(first_frame), "one of the frames unchanged"),
        mistake("the result instead of the function", lambda c: combine(stack_median(frames(c))), "should be a function"),
    ],
    "3.2": [
        solution("median_combine(bias_frames)", lambda c: master(stack_median(frames(c)))),
        valid("ccdlab.combine of the files", lambda c: master(__import__("ccdlab").combine(c.bias_files, method="median", progress=False))),
        valid("np.nanmedian in float64", lambda c: master(np.nanmedian(np.array(frames(c), dtype=np.float64), axis=0))),
        valid("np.percentile(..., 50, axis=0) as float32", lambda c: master(np.percentile(frames(c), 50, axis=0).astype(np.float32))),
        valid("ccdlab.calibrate.master_bias", lambda c: master(__import__("ccdlab.calibrate").calibrate.master_bias(c.bias_files, progress=False))),
        mistake("the mean of the frames (issue 11)", lambda c: master(mean(frames(c))), "That is the mean"),
        mistake("transposed (issue 11)", lambda c: master(stack_median(frames(c)).T), "transposed"),
        mistake("still a stack", lambda c: master(np.stack(frames(c))), "still a stack"),
        mistake("one bias frame", lambda c: master(frames(c)[0]), "single bias frame"),
        mistake("the median of the first three frames", lambda c: master(stack_median(frames(c)[:3])), "only 3 frames"),
        mistake("the level taken out", lambda c: master(level_taken_out(stack_median(frames(c)))), "bias level"),
        mistake("the file names", lambda c: master(list(c.bias_files)), "not the file names"),
    ],
    "3.3": [
        solution("clipped std of frame 0 - frame 1, / sqrt(2)", lambda c: rn(read_noise(c))),
        valid("frame 1 - frame 0", lambda c: rn(clipped_std(frames(c)[1] - frames(c)[0]) / np.sqrt(2))),
        valid("sigma_clip then np.std, in float64",
              lambda c: rn(float(np.std(sigma_clip(frames(c)[0].astype(np.float64) - frames(c)[1]))) / math.sqrt(2))),
        valid("ccdlab.stats.clipped_std", lambda c: rn(__import__("ccdlab.stats").stats.clipped_std(frames(c)[0] - frames(c)[1]) / 2 ** 0.5)),
        valid("rounded to 0.1 ADU", lambda c: rn(round(float(read_noise(c)), 1))),
        mistake("the clipped std of one bias frame (issue 11)", lambda c: rn(clipped_std(frames(c)[0])), "bias pattern"),
        mistake("the plain std of one bias frame", lambda c: rn(float(np.std(frames(c)[0]))), "one frame also holds the bias pattern"),
        mistake("not divided by sqrt(2)", lambda c: rn(clipped_std(frames(c)[0] - frames(c)[1])), "Divide it by sqrt(2)"),
        mistake("multiplied by sqrt(2)", lambda c: rn(clipped_std(frames(c)[0] - frames(c)[1]) * np.sqrt(2)), "multiplied by sqrt(2)"),
        mistake("divided by 2", lambda c: rn(clipped_std(frames(c)[0] - frames(c)[1]) / 2), "divided by 2"),
        mistake("the variance", lambda c: rn(read_noise(c) ** 2), "variance"),
        mistake("in electrons", lambda c: rn(read_noise(c) * 1.6), "electrons"),
        mistake("a frame minus itself", lambda c: rn(clipped_std(frames(c)[0] - frames(c)[0]) / np.sqrt(2)), "Subtract two different frames"),
        mistake("the sum of the two frames", lambda c: rn(clipped_std(frames(c)[0] + frames(c)[1]) / np.sqrt(2)), "sum of the two frames"),
    ],
    "3.4": [
        solution("median of bias_frames[:n] - bias_frames[n], read noise removed in quadrature", lambda c: noise_of_master(c)),
        valid("np.nanmedian master", lambda c: noise_of_master(c, master_of=nanmedian)),
        valid("frame minus master", lambda c: noise_of_master(c, combine_noise=lambda d, r: math.sqrt(d * d - r * r))),
        valid("ccdlab.combine of the first n files",
              lambda c: noise_of_master(c, first=__import__("ccdlab").combine(c.bias_files[:-1], method="median", progress=False))),
        valid("in float64", lambda c: noise_of_master(c, master_of=lambda f: np.median(np.array(f, dtype=np.float64), axis=0))),
        mistake("the theory read_noise / sqrt(n)", lambda c: {"master_noise_adu": read_noise(c) / np.sqrt(len(frames(c)) - 1)},
                "read noise / sqrt("),
        mistake("the difference's std, read noise left in", lambda c: noise_of_master(c, combine_noise=lambda d, r: d),
                "also holds the independent frame's own read noise"),
        mistake("the difference's std / sqrt(2)", lambda c: noise_of_master(c, combine_noise=lambda d, r: d / np.sqrt(2)), "Dividing by sqrt(2)"),
        mistake("the noises added instead of removed", lambda c: noise_of_master(c, combine_noise=lambda d, r: np.sqrt(d ** 2 + r ** 2)),
                "subtract the squares"),
        mistake("the master's own std (it holds the pattern)",
                lambda c: {"master_noise_adu": clipped_std(stack_median(frames(c)[:-1]))}, "std of the master itself"),
        mistake("a mean master", lambda c: noise_of_master(c, master_of=mean), "a mean of"),
        mistake("every frame in the master (nan)", lambda c: noise_of_master(c, first=stack_median(frames(c))), "is in your master"),
        mistake("subtracting a frame of the master (nan)", lambda c: noise_of_master(c, last=frames(c)[-2]), "is in your master"),
    ],
}
