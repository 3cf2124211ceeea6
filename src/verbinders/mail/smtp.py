"""Sending one message to one recipient over SMTP, in two steps.

`begin` sends MAIL FROM, RCPT TO, DATA and the whole message except the final `.` line;
`finish` sends that line and reads the server's answer. Between the two the worker records
that the message is *committing*: until the final dot has gone out the server cannot have
accepted the message (RFC 5321: a transaction whose data was not completed is discarded), so
a delivery interrupted before that mark is safe to send again; only one interrupted between
the dot and the "sent" mark (the server's reply and one UPDATE) is in doubt.

`smtplib` is synchronous, so the steps run in a thread of the sender's own executor, one
thread per connection; `advance` does the end of one message and the beginning of the next in
one trip to that thread (the worker marks the next *committing* before its final dot).
Connections are kept open between messages and opened again after an error.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["SmtpConnection", "SmtpError", "SmtpServer", "parse_smtp_url"]

_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str
    """`none`, `starttls` or `tls`."""
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password
        who = f"{self.username}@" if self.username else ""
        return f"SmtpServer({self.security} {who}{self.host}:{self.port})"


_SCHEMES = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://host[:port]`, `smtp+starttls://user:password@host[:port]` or `smtps://...`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise ValueError("must start with smtp://, smtp+starttls:// or smtps://")
    security, default_port = _SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as error:
        raise ValueError(f"has a bad port ({error})") from None
    if not parts.hostname:
        raise ValueError("names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must not have a path, query or fragment")
    return SmtpServer(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpError(Exception):
    """The server refused (`code` 4xx: try later; 5xx: never) or could not be reached
    (`code` None: try later)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600


class SmtpConnection:
    """One connection to the server, used by one thread at a time."""

    def __init__(self, server: SmtpServer, *, timeout: float, local_hostname: str) -> None:
        self.server = server
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        server = self.server
        try:
            smtp: smtplib.SMTP
            if server.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    server.host,
                    server.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    server.host,
                    server.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                )
            # The final dot goes out on its own, well after the data (the worker marks the
            # delivery `committing` in between): without TCP_NODELAY, Nagle's algorithm holds
            # it back until the server acknowledges the data, which a server with delayed
            # acknowledgements does only after some 40 ms.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if server.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if server.username:
                smtp.login(server.username, server.password or "")
        except smtplib.SMTPResponseException as error:
            raise SmtpError(
                f"{server!r}: {error.smtp_code} {error.smtp_error!r}", error.smtp_code
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise SmtpError(f"{server!r} cannot be reached: {error}") from error
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _command(self, smtp: smtplib.SMTP, line: str, expected: tuple[int, ...]) -> None:
        code, reply = smtp.docmd(line)
        if code not in expected:
            if code == 421 or code < 0:
                self.close()
            else:
                try:
                    smtp.rset()
                except (OSError, smtplib.SMTPException):
                    self.close()
            raise SmtpError(f"{line.split(':')[0]}: {code} {reply.decode(errors='replace')}", code)

    def begin(self, sender: str, recipient: str, message: bytes) -> None:
        """Everything but the final dot (see the module's notes)."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            smtp = self._smtp
            self._command(smtp, f"MAIL FROM:<{sender}>", (250,))
            self._command(smtp, f"RCPT TO:<{recipient}>", (250, 251))
            self._command(smtp, "DATA", (354,))
            data = _LEADING_DOT.sub(b"..", message)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            smtp.send(data)
        except SmtpError:
            raise
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SmtpError(f"{self.server!r}: connection lost ({error})") from error

    def finish(self) -> tuple[int, str]:
        """Send the final dot and return the server's reply; `SmtpError` (code None) when the
        connection broke meanwhile: then nobody knows whether the server accepted."""
        smtp = self._smtp
        if smtp is None:
            raise SmtpError("no transaction begun")
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise SmtpError(f"{self.server!r}: connection lost after the data ({error})") from error
        if code == 421 or code < 0:
            self.close()
        return code, reply.decode(errors="replace")

    def advance(
        self,
        finishing: bool,
        beginning: tuple[str, bytes] | None,
        sender: str,
        report: Callable[[tuple[int, str] | SmtpError], None],
    ) -> tuple[tuple[int, str] | SmtpError | None, SmtpError | None]:
        """`finish` the begun message (if `finishing`; its outcome also goes to `report` at
        once: the server's reply, or the error that leaves it in doubt), then `begin` the next
        (`recipient`, `message`), if any, in one call. Returns both outcomes (the second:
        None when begun)."""
        finished: tuple[int, str] | SmtpError | None = None
        if finishing:
            try:
                finished = self.finish()
            except SmtpError as error:
                finished = error
            report(finished)
        begun: SmtpError | None = None
        if beginning is not None:
            try:
                self.begin(sender, *beginning)
            except SmtpError as error:
                begun = error
        return finished, begun

    def abort(self) -> None:
        """Give up a begun transaction without completing it (the server discards it)."""
        self.close()
