"""The `--scheduler` option of the batch commands: the flag, else `WANGGE_DASK_SCHEDULER`."""

from __future__ import annotations

from geo_api.settings import Settings
from layers.analytics.dask_scheduler import describe


def chosen_scheduler(option: str | None, settings: Settings) -> str | None:
    """The scheduler to use, None for in-process; a malformed one fails here, before any work."""
    chosen = settings.dask.scheduler if option is None else option
    chosen = None if chosen in {None, "", "none"} else chosen
    describe(chosen)
    return chosen
