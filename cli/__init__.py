"""The command line: one Click module per command over the :mod:`mintext` library (start at :mod:`cli.main`)."""
