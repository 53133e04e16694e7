"""The ``ccdlab`` command line: one module per command, each with ``add_arguments`` and ``run``.

A command module imports only the standard library at the top, so ``ccdlab COMMAND --help`` is
instant; ``run(args)`` imports what the command needs. ``run`` returns the exit code, or raises a
:class:`ccdlab.errors.CcdlabError`, which :mod:`ccdlab.cli` prints as one sentence.
"""
