"""One ingest at a time on a shared Chroma server: a lease in the store itself, renewed while
held, that a killed holder loses within `lease_seconds` (`IndexStore.ingest_lock` takes it after
the data directory's lock file)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from retrieval.errors import IngestBusyError
from retrieval.index.chroma import NO_VECTOR

logger = logging.getLogger(__name__)


class Lease:
    """The one-ingest lock in a shared store: a record naming its holder and its expiry.

    Chroma has no compare-and-swap, so taking the lease is write, wait, read back: of two
    takers racing, the later write wins and the other sees it and backs off. The holder
    renews it in a thread; if it ever finds another holder, it stops and its commit fails.
    """

    KEY = "ingest"

    def __init__(self, collection, seconds: float, *, clock: Callable[[], float] = time.time):
        self.collection = collection
        self.seconds = seconds
        self.clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _read(self) -> dict[str, Any]:
        got = self.collection.get(ids=[self.KEY], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {}

    def _write(self) -> None:
        self.collection.upsert(
            ids=[self.KEY],
            metadatas=[{"holder": self.holder, "expires": self.clock() + self.seconds}],
            embeddings=[NO_VECTOR],
        )

    def acquire(self, settle: float = 0.5) -> None:
        current = self._read()
        if current and current.get("holder") != self.holder and current["expires"] > self.clock():
            raise IngestBusyError(
                f"another ingest holds the index (lease of {current['holder']}, "
                f"{current['expires'] - self.clock():.0f} s left)"
            )
        self._write()
        time.sleep(settle)
        if self._read().get("holder") != self.holder:
            raise IngestBusyError("another ingest took the index at the same moment")
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                if self._read().get("holder") != self.holder:
                    self.lost.set()
                    logger.error("the ingest lease was taken by another process")
                    return
                self._write()
            except Exception as exc:  # the store is away: try again at the next beat
                logger.warning("cannot renew the ingest lease: %s", exc)

    def check(self) -> None:
        if self.lost.is_set():
            raise IngestBusyError("this ingest lost its lease to another process")

    def release(self) -> None:
        self._stop.set()
        if self._renewer:
            self._renewer.join(timeout=5)
        with contextlib.suppress(Exception):
            if self._read().get("holder") == self.holder:
                self.collection.delete(ids=[self.KEY])
