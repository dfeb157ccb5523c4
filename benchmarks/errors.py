"""The errors a sweep raises for problems of its input or its output folder.

They live apart from the code that raises them so that every layer (config parsing, plugins,
the sweep driver) can raise them and the command line can turn each into its exit status
without importing the machinery behind it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "OutputFolderError", "ResumableInterrupt", "SchedulerUnreachable"]


class ConfigError(ValueError):
    """An invalid sweep configuration; the message names the key and what was expected."""


class SchedulerUnreachable(ValueError):
    """The Dask scheduler address given does not answer; the message names it."""


class OutputFolderError(OSError):
    """Cell files or results.csv could not be written; the message names the folder.

    Raised at the end of a sweep, after every cell that could be saved was saved.
    """


class ResumableInterrupt(KeyboardInterrupt):
    """A stopped run, with the command that resumes it (``resume``) and, once a sweep had
    started, the folder its finished cells are kept in (``cells``).

    The sweep raises it instead of logging, so that the one line the command line prints on
    its way out is the only account of the stop and names the right way back: a rerun resumes
    with ``pugan-bench run`` on its copy, not with the command that made it.
    """

    def __init__(self, resume: str, cells=None):
        kept = f" in {cells}" if cells is not None else ""
        super().__init__(f"interrupted; finished cells are kept{kept}; resume with {resume}")
        self.resume = resume
        self.cells = cells

    def __reduce__(self):
        return type(self), (self.resume, self.cells)
