"""Reminders and notices as an outbox: written with the change, sent later by a pluggable sender.

No SMS gateway is reachable here, so the default sender (`LogSender`) only
records in the outbox row that the message was handed over (``sender = 'log'``);
a real gateway is a class with the same `send` and a `name`.  Bodies name the
matter, the station and the time, never the resident's name or phone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One message as a sender receives it."""

    id: int
    kind: str
    body: str
    appointment_id: int | None
    proxy_request_id: int | None


class Sender(Protocol):
    """Delivers one message; raises to leave it pending for a retry."""

    name: str

    def send(self, message: Message) -> None:
        """Hand `message` to the channel."""
        ...


class LogSender:
    """The default: nothing leaves the machine; the outbox row says it was 'sent' to the log."""

    name = "log"

    def send(self, message: Message) -> None:
        """Log the message id and kind (never the body: it may be looked up in the outbox)."""
        logger.info("outbox message %d (%s) handed to the log sender", message.id, message.kind)


def enqueue(
    *,
    session: Session,
    kind: str,
    body: str,
    due_at: datetime,
    now: datetime,
    appointment_id: int | None = None,
    proxy_request_id: int | None = None,
) -> None:
    """Add a message to the caller's transaction."""
    session.execute(
        text(
            "INSERT INTO service_outbox (appointment_id, proxy_request_id, kind, due_at, body, "
            "created_at) VALUES (:a, :p, :k, :d, :b, :n)"
        ),
        {"a": appointment_id, "p": proxy_request_id, "k": kind, "d": due_at, "b": body, "n": now},
    )


def enqueue_many(
    *,
    session: Session,
    appointment_id: int,
    now: datetime,
    messages: list[tuple[str, str, datetime]],
) -> None:
    """Add (kind, body, due_at) messages of one appointment in one statement (one round trip)."""
    values, params = [], {"a": appointment_id, "n": now}
    for i, (kind, body, due_at) in enumerate(messages):
        values.append(f"(:a, NULL, :k{i}, :d{i}, :b{i}, :n)")
        params |= {f"k{i}": kind, f"d{i}": due_at, f"b{i}": body}
    sql = "INSERT INTO service_outbox (appointment_id, proxy_request_id, kind, due_at, body, "
    sql += "created_at) VALUES " + ", ".join(values)  # bound placeholders only
    session.execute(text(sql), params)


def void_pending(*, session: Session, appointment_id: int, kind: str) -> None:
    """Void pending messages of `kind` for an appointment (a cancelled booking's reminder)."""
    session.execute(
        text(
            "UPDATE service_outbox SET status = 'void' WHERE appointment_id = :a AND kind = :k "
            "AND status = 'pending'"
        ),
        {"a": appointment_id, "k": kind},
    )


def send_due(
    *, session: Session, sender: Sender, now: datetime, limit: int = 500
) -> dict[str, int]:
    """Send pending messages due by `now` (oldest first); rows are locked, so runs never overlap."""
    rows = session.execute(
        text(
            "SELECT id, kind, body, appointment_id, proxy_request_id FROM service_outbox "
            "WHERE status = 'pending' AND due_at <= :n ORDER BY due_at, id LIMIT :l "
            "FOR UPDATE SKIP LOCKED"
        ),
        {"n": now, "l": limit},
    ).all()
    sent = failed = 0
    for r in rows:
        try:
            sender.send(Message(r.id, r.kind, r.body, r.appointment_id, r.proxy_request_id))
        except Exception:
            logger.warning("outbox message %d could not be sent", r.id)
            session.execute(
                text("UPDATE service_outbox SET attempts = attempts + 1 WHERE id = :i"), {"i": r.id}
            )
            failed += 1
            continue
        session.execute(
            text(
                "UPDATE service_outbox SET status = 'sent', sent_at = :n, sender = :s, "
                "attempts = attempts + 1 WHERE id = :i"
            ),
            {"n": now, "s": sender.name, "i": r.id},
        )
        sent += 1
    return {"sent": sent, "failed": failed}
