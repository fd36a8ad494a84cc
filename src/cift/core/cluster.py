"""The Dask client that sweeps, walk-forward runs and model training fan out on.

With ``CIFT_DASK_SCHEDULER`` set, the client connects to that scheduler; otherwise it
starts a local cluster of ``CIFT_DASK_LOCAL_WORKERS`` single-threaded worker processes
(one backtest at a time each, no shared interpreter lock) and stops it afterwards.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cift.core.errors import ConfigurationError, UpstreamError
from cift.core.settings import Settings

if TYPE_CHECKING:
    from distributed import Client, Future

CONNECT_TIMEOUT = "10s"


def _require_distributed() -> None:
    if importlib.util.find_spec("distributed") is None:
        raise ConfigurationError(
            "Sweeps and training folds run on Dask, which is not installed; install it with "
            "pip install 'cift[distributed]'."
        )


@contextmanager
def dask_client(settings: Settings, workers: int | None = None) -> Iterator[Client]:
    """A client of the configured scheduler, or of a local cluster of ``workers``
    processes (default ``settings.dask_local_workers``), closed on exit."""
    _require_distributed()
    from distributed import Client, LocalCluster

    if settings.dask_scheduler:
        try:
            client = Client(  # type: ignore[no-untyped-call]
                settings.dask_scheduler, timeout=CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(
                f"Cannot reach the Dask scheduler at {settings.dask_scheduler} ({exc}); "
                "start it, fix CIFT_DASK_SCHEDULER, or unset it to use local worker processes."
            ) from None
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    with _quiet("distributed"):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers or settings.dask_local_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # the scheduler serves HTTP anyway; any free port
            silence_logs=logging.ERROR,
        )
        try:
            with Client(cluster) as client:  # type: ignore[no-untyped-call]
                yield client
        finally:
            cluster.close()


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only errors from the scheduler and nannies this process hosts (their start-up,
    connection and shutdown chatter would bury the progress bar)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


@contextmanager
def using(
    settings: Settings, client: Client | None = None, workers: int | None = None
) -> Iterator[Client]:
    """``client`` when one is given (left open), else :func:`dask_client`."""
    if client is not None:
        yield client
        return
    with dask_client(settings, workers) as opened:
        yield opened


def worker_count(client: Client) -> int:
    """Workers the scheduler knows of now (at least 1, for batch sizing)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


def scatter(client: Client, value: object) -> Future[Any]:
    """``value`` copied once to every worker, for tasks to take as an argument."""
    future: Future[Any] = client.scatter(  # type: ignore[no-untyped-call]
        value, broadcast=True, hash=False
    )
    return future


def cancel(client: Client, futures: Iterable[Future[Any]]) -> None:
    client.cancel(list(futures))  # type: ignore[no-untyped-call]


class Completed:
    """Futures in the order they finish; more can be added while iterating."""

    def __init__(self, futures: Iterable[Future[Any]]) -> None:
        from distributed import as_completed

        self._queue = as_completed(list(futures))  # type: ignore[no-untyped-call]

    def add(self, future: Future[Any]) -> None:
        self._queue.add(future)  # type: ignore[no-untyped-call]

    def __iter__(self) -> Iterator[Future[Any]]:
        return iter(self._queue)
