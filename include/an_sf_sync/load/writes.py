"""Action Network writes, one request each, side by side under the client's shared rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from an_sf_sync.actionnetwork.errors import ActionNetworkAuthError
from an_sf_sync.progress import Progress

if TYPE_CHECKING:
    from an_sf_sync.actionnetwork.client import ActionNetworkClient


def each_write(an: ActionNetworkClient, items: Sequence[Any], write: Callable[[Any], Any], what: str
               ) -> Iterator[tuple[Any, Any, Exception | None]]:
    """``(item, result, None)`` or ``(item, None, error)`` per item, in order; progress is logged.

    A rejected API key is not a problem of one record: it stops the load at once (and, through the
    DAG's retry policy, the task). Every write is safe to repeat, so the rerun redoes the few in flight.
    """
    def attempt(item: Any) -> tuple[Any, Any, Exception | None]:
        try:
            return item, write(item), None
        except Exception as exc:  # recorded per row by the caller; the rest of the batch goes on
            return item, None, exc

    progress = Progress(what, total=len(items))
    with ThreadPoolExecutor(max_workers=max(1, getattr(an, "concurrency", 4))) as pool:
        for done, outcome in enumerate(pool.map(attempt, items), start=1):
            if isinstance(outcome[2], ActionNetworkAuthError):
                raise outcome[2]
            progress(done)
            yield outcome
