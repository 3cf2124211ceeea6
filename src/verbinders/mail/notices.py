"""What a call's e-mails say: plain text, the same for every addressee of one notice.

Pure functions of the call as its event left it; rendered when the notice is written to the
outbox (with the event), so that what was sent is what the call said at that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from verbinders.domain.calls import Call

__all__ = ["NoticeKind", "render"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

NoticeKind = str
"""`issued`, `added` (an addressee added later), `updated`, `reminder`, `closed`."""

_SUBJECT = {
    "issued": "{label}: {title}",
    "added": "{label}: {title}",
    "updated": "Gewijzigd - {label}: {title}",
    "reminder": "Herinnering - {label}: {title}",
    "closed": "Gesloten - {label}: {title}",
}
_LABEL = {"calamity": "Calamiteit", "festivity": "Feest", "consultation": "Raadpleging"}
_INTRO = {
    "issued": "De gemeente en het platform vragen uw organisatie om hulp.",
    "added": "De gemeente en het platform vragen uw organisatie om hulp.",
    "updated": "Deze oproep is gewijzigd. Dit is de oproep zoals hij nu luidt.",
    "reminder": "U heeft nog niet gereageerd op deze oproep.",
    "closed": "Deze oproep is gesloten. Dank aan iedereen die heeft gereageerd.",
}


def _when(call: Call) -> str:
    return call.respond_by.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def render(call: Call, kind: NoticeKind, *, reason: str = "") -> tuple[str, str]:
    """(subject, body) of a notice about `call`."""
    label = _LABEL.get(call.kind.value, call.kind.value)
    subject = _SUBJECT[kind].format(label=label, title=call.title)
    if call.urgency.value in ("high", "critical") and kind != "closed":
        subject = f"[{call.urgency.value.upper()}] {subject}"
    lines = [_INTRO[kind], "", call.title, "", call.message, ""]
    if kind == "closed" and reason:
        lines += [f"Reden: {reason}", ""]
    if call.needs and kind != "closed":
        lines.append("Wat er nodig is:")
        for need in call.needs:
            where = f", wijk {need.district}" if need.district else ""
            language = f", taal {need.language}" if need.language else ""
            lines.append(
                f"  - [{need.id}] {need.description} ({need.kind.value}, {need.quantity}"
                f"{where}{language})"
            )
        lines.append("")
    if kind != "closed":
        lines += [
            f"Reageer uiterlijk {_when(call)} (Amsterdamse tijd) via het platform:",
            f"oproep {call.id}.",
            "",
        ]
    lines.append("Dit bericht is automatisch verstuurd door het platform Verbinders.")
    return subject, "\n".join(lines) + "\n"
