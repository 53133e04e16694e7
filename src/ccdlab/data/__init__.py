"""Getting and keeping a night's data: the plumbing below the course.

- :mod:`ccdlab.data.simulate`: the seeded synthetic night (sky, detector, cosmic rays) with its truth;
- :mod:`ccdlab.data.fetch`: fill a data folder with the synthetic night or a downloaded real one;
- :mod:`ccdlab.data.download`, :mod:`ccdlab.data.archive`, :mod:`ccdlab.data.sorting`: the steps
  of a download (verified transfer, safe extraction, sorting frames into bias/, flats/, science/);
- :mod:`ccdlab.data.manifest`: checksums of a data folder, and installing one atomically;
- :mod:`ccdlab.data.colab`: the data on Google Drive, with a fast local working copy;
- :mod:`ccdlab.data.doctor`: is this machine and this data folder ready for the course?
"""
