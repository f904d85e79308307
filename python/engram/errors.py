"""The exceptions engram raises; every one is an EngramError."""


class EngramError(Exception):
    """Base class of the package's errors."""


class NotAnExperimentError(EngramError, FileNotFoundError):
    """The path is not an experiment directory (no runs/ and no summary.h5), or a
    results root that does not hold exactly one experiment."""


class StaleSummaryError(EngramError):
    """summary.h5 is missing or older than runs/: `engram collect DIR` rebuilds it."""


class RunNotFoundError(EngramError, LookupError):
    """No run (or more than one) fits a run id or prefix, or its run file is gone."""


class ColumnError(EngramError, KeyError):
    """No column, metric, series, artifact or weight of that name."""

    def __str__(self):  # KeyError quotes its message; this one is a sentence
        return str(self.args[0]) if self.args else ""


class GoalError(EngramError, ValueError):
    """best() needs a goal the metric does not declare: pass goal="max" or goal="min"."""
