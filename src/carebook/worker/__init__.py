"""``carebook worker``: one long-running process that does every piece of background
work of a carebook database (see docs/operations.md#the-worker).

- :mod:`carebook.worker.config`: :class:`WorkerConfig`, from a TOML file and
  ``CAREBOOK_*`` environment variables;
- :mod:`carebook.worker.jobs`: the jobs, their periods, what happens when one is late;
- :mod:`carebook.worker.runner`: the loop, its clean stop, the one-worker rule on SQLite;
- :mod:`carebook.worker.cli`: the command line and its exit statuses.

The worker is a host like any other: it builds its Carebook through
:func:`carebook.bootstrap` with the storage named in the configuration, and knows no
adapter.
"""

from carebook.worker.config import WorkerConfig, load_config
from carebook.worker.jobs import JOBS, Job
from carebook.worker.runner import Worker

__all__ = ["JOBS", "Job", "Worker", "WorkerConfig", "load_config"]
