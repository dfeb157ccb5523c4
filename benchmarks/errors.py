"""The errors a sweep raises for problems of its input or its output folder.

They live apart from the code that raises them so that every layer (config parsing, plugins,
the sweep driver) can raise them and the command line can turn each into its exit status
without importing the machinery behind it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "OutputFolderError", "SchedulerUnreachable"]


class ConfigError(ValueError):
    """An invalid sweep configuration; the message names the key and what was expected."""


class SchedulerUnreachable(ValueError):
    """The Dask scheduler address given does not answer; the message names it."""


class OutputFolderError(OSError):
    """Cell files or results.csv could not be written; the message names the folder.

    Raised at the end of a sweep, after every cell that could be saved was saved.
    """
