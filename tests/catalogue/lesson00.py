"""Answer catalogue of lesson 00: counting the frames of a night."""

from catalogue import mistake, solution, valid

LESSON = "00_getting_started"


def counts(bias, flats, science):
    return {"n_bias": bias, "n_flats": flats, "n_science": science}


CASES = {
    "0.1": [
        solution("len() of each list", lambda c: counts(len(c.bias_files), len(c.flat_files), len(c.science_files))),
        valid("numpy integers from the table",
              lambda c: counts(*(__import__("numpy").int64((c.table["frame_type"] == kind).sum())
                                 for kind in ("bias", "flat", "science")))),
        valid("counted with sum() over the table",
              lambda c: counts(*(sum(1 for t in c.table["frame_type"] if t == kind) for kind in ("bias", "flat", "science")))),
        valid("len() of a glob of each folder",
              lambda c: counts(*(len(sorted((c.data_dir / folder).glob("*.fits"))) for folder in ("bias", "flats", "science")))),
        mistake("the lists themselves", lambda c: counts(c.bias_files, c.flat_files, c.science_files), "whole number"),
        mistake("every file counted as bias", lambda c: counts(len(c.table), len(c.flat_files), len(c.science_files)),
                "does not match the bias/ frames"),
        mistake("bias and flats swapped", lambda c: counts(len(c.flat_files), len(c.bias_files), len(c.science_files)),
                "does not match"),
        mistake("the counts as text", lambda c: counts(str(len(c.bias_files)), str(len(c.flat_files)), str(len(c.science_files))),
                "whole number"),
        mistake("the flat count off by one (the saturated flat left out)",
                lambda c: counts(len(c.bias_files), len(c.flat_files) - 1, len(c.science_files)), "does not match the flats/ frames"),
        mistake("a float count", lambda c: counts(float(len(c.bias_files)), len(c.flat_files), len(c.science_files)),
                "whole number"),
    ],
}
