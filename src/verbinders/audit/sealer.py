"""The sealer: one process at a time seals the feed every `interval` seconds."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from verbinders.audit.seals import seal
from verbinders.leadership import LeaderWorker

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["Sealer"]

log = logging.getLogger(__name__)


class Sealer(LeaderWorker):
    lock_name = "audit-sealer"
    interval = 60.0
    """Seconds between seals (a seal is written only when events were appended since)."""

    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sealed = await seal(conn)
            if sealed is not None:
                log.info(
                    "sealed positions %d-%d (%d events) as seal %d",
                    sealed.after_position + 1,
                    sealed.up_to_position,
                    sealed.events,
                    sealed.number,
                )
            await self.nap(stop, self.interval)
