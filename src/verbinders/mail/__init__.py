"""E-mail to organisations: what a call's notices say (`notices.py`), the transactional outbox
they wait in (`outbox.py`), and the worker that delivers them over SMTP (`worker.py`,
`smtp.py`)."""

from __future__ import annotations

__all__: list[str] = []
