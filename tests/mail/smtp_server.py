"""A real SMTP server on loopback (aiosmtpd) that records what it accepted, and can be told to
refuse for a while or to hold a message at a given step."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Arrived", "SmtpServer"]


@dataclass(frozen=True)
class Arrived:
    recipient: str
    message_id: str
    subject: str
    call: str
    body: str


@dataclass
class Handler:
    arrived: list[Arrived] = field(default_factory=list)
    refuse: str | None = None
    """A reply to send to every RCPT while set (e.g. `451 4.3.0 try later`)."""
    hold_at: str | None = None
    """`rcpt` or `data`: hold the next message at that step until `release` is set."""
    hold_after: int = 0
    """Messages to let through that step before the one held."""
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    attempts: int = 0

    async def _hold(self, step: str) -> None:
        if self.hold_at == step:
            if self.hold_after > 0:
                self.hold_after -= 1
                return
            self.hold_at = None
            self.holding.set()
            import asyncio

            while not self.release.is_set():
                await asyncio.sleep(0.01)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.attempts += 1
        if self.refuse:
            return self.refuse
        await self._hold("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            self.arrived.append(
                Arrived(
                    recipient=recipient,
                    message_id=str(message["Message-ID"]),
                    subject=str(message["Subject"]),
                    call=str(message["X-Verbinders-Call"]),
                    body=message.get_content(),
                )
            )
        # Accepted (recorded) before the reply goes out: holding the reply is the window in
        # which the client cannot know that the server took the message.
        await self._hold("data")
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.handler.release.set()
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Arrived]:
        deadline = time.monotonic() + timeout
        while len(self.handler.arrived) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.handler.arrived)
