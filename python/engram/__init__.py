"""engram — reading engram's results (results/<experiment>/: runs/*.h5 and summary.h5) into
pandas, with the numbers `engram show` prints.

    import engram
    exp = engram.open("results/quickstart")
    exp.runs                         # one row per run: ids, status, seed, every parameter, metrics
    exp.summary()                    # mean, sd, n over seeds per swept setting (== engram show --json)
    exp.best("retrieval/success")    # the best group, by the metric's declared goal
    exp.series("retrieval/energy")   # every run's curve, long format
    exp.runs.query(f"{engram.col('params.variant')} == 'gmm'")

The HDF5 layout it reads: docs/results.md."""
from ._version import __version__
from .columns import col, flat_name, flatten
from .errors import (ColumnError, EngramError, GoalError, NotAnExperimentError, RunNotFoundError,
                     StaleSummaryError)
from .experiment import Experiment, StaleSummaryWarning, open
from .runfile import Artifact
from .stats import summarize

__all__ = [
    "__version__", "open", "Experiment", "Artifact", "col", "flat_name", "flatten", "summarize",
    "EngramError", "NotAnExperimentError", "StaleSummaryError", "StaleSummaryWarning", "RunNotFoundError",
    "ColumnError", "GoalError",
]
