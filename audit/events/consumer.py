"""`vod-audit consume`'s loop: a queue's messages stored durably, and only then deleted from the queue.

A batch is received (long polling), every message is appended to the day files (or, when it is no
event, written aside to `rejected/` with the reason), each durably, and only then is the batch
deleted. A process killed anywhere in between has deleted nothing it has not stored; the queue
shows what it did not delete again after its VisibilityTimeout, and the day files keep it once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.timeutil import format_utc
from audit.events.journal import Journal
from audit.events.queue import QueueClient, QueueError
from audit.events.receiver import named
from audit.events.tally import Tally
from audit.vod import mns

TRIES = 5  # calls in a row that may fail (connection, 5xx) before `--once` gives up
PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # seconds between failed calls; a daemon stays at 30


# Seconds a receive is let run after a stop. The service answers at once when it holds messages (long
# polling delivers whatever arrives immediately:
# https://www.alibabacloud.com/help/en/mns/developer-reference/receivemessage), so a receive older than this is waiting on an empty
# queue, and cutting it leaves no batch on the wire; a younger one may be bringing a batch: it finishes.
STOP_GRACE = 1.0


class Stopped(BaseException):
    """A stop cut short a receive waiting on an empty queue: no message is in hand."""


class CannotStore(Exception):
    """A message could not be stored (a full disk): it stays in the queue, and the consumer stops."""


def decode(body: str) -> tuple[dict[str, Any] | None, str]:
    """The event a message carries and how ("raw" or "base64"), or None and why it is none. Bodies
    are raw JSON or base64 of it, as the queue's producer chose: both are read."""
    text = body.strip()
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        event = None
    else:
        if isinstance(event, dict):
            return event, "raw"
    try:
        event = json.loads(base64.b64decode(text, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None, "the body is neither JSON nor base64 of JSON"
    if not isinstance(event, dict):
        return None, "the body is not a JSON object (raw or base64)"
    return event, "base64"


class Consumer:
    """One queue into one folder: `batch()` handles one received batch, `run()` goes on until told."""

    def __init__(
        self,
        client: QueueClient,
        journal: Journal,
        tally: Tally,
        say: Callable[[str], None],
        *,
        wait: int = mns.MAX_WAIT,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.tally = tally
        self.say = say
        self.wait = wait
        self.stopping = threading.Event()
        self.polling_since: float | None = None  # monotonic start of the receive in flight, if any
        self._sleep = sleep or self.stopping.wait
        self.rejected = journal.folder / "rejected"

    def run(self, once: bool) -> None:
        """Until stopped; with `once`, until a receive finds the queue empty. QueueError when no
        call can succeed (or `once` met TRIES failures in a row), CannotStore when storing fails; an
        OSError when the very first call reaches nothing (a wrong endpoint: nothing can succeed)."""
        failures, reached = 0, False
        while not self.stopping.is_set():
            try:
                got = self.batch(0 if once else self.wait)
            except (QueueError, OSError) as exc:
                if exc.hopeless if isinstance(exc, QueueError) else not reached:
                    raise
                failures += 1
                if once and failures >= TRIES:
                    raise
                pause = PAUSES[min(failures, len(PAUSES)) - 1]
                self.say(f"the queue did not answer ({_why(exc)}); again in {pause:g} s")
                self._sleep(pause)
                continue
            failures, reached = 0, True
            if once and got == 0:
                return

    def cut_after(self) -> float | None:
        """After a stop: None when no receive is in flight, else how much longer it is let run
        before it is cut (0: now)."""
        since = self.polling_since
        return None if since is None else max(0.0, STOP_GRACE - (time.monotonic() - since))

    def batch(self, wait: int) -> int:
        """One batch received, stored and then deleted; how many messages it held."""
        self.polling_since = time.monotonic()
        try:
            received = self.client.receive(wait)
        finally:
            self.polling_since = None
        kept: list[str] = []
        try:
            for message in received:
                self._keep(message)
                kept.append(message.receipt_handle)
        finally:  # what is stored is deleted, also when the rest cannot be (it stays in the queue)
            if kept:
                self._delete(kept)
        return len(received)

    def _keep(self, message: mns.Message) -> None:
        event, how = decode(message.body)
        try:
            if event is None:
                self._reject(message, how)
                self.tally.count("rejected")
                self.say(f"message {json.dumps(message.message_id)}: rejected: {how}")
                return
            stored = self.journal.append(event)
        except OSError as exc:
            self.tally.count("failed")
            raise CannotStore(
                f"message {message.message_id!r} could not be stored ({exc.strerror or exc}); "
                "it stays in the queue"
            ) from None
        self.tally.count(stored)
        self.say(f"{named(event)}: {stored} ({how})")

    def _reject(self, message: mns.Message, why: str) -> None:
        """The message as received and the reason, in rejected/ durably (file and folder fsynced)."""
        self.rejected.mkdir(exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9-]", "", message.message_id)[:64]
        name = safe or hashlib.sha256(message.body.encode()).hexdigest()[:32]
        record = {
            "message_id": message.message_id,
            "reason": why,
            "received_at": format_utc(datetime.now(UTC)),
            "dequeue_count": message.dequeue_count,
            "body": message.body,
        }
        # Durable, name included, before the message is deleted.
        write_atomic(
            self.rejected / f"{name}.json",
            json.dumps(record, ensure_ascii=False, indent=2) + "\n",
            durable=True,
        )

    def _delete(self, handles: list[str]) -> None:
        """The stored batch deleted, tried again on failure; what still fails comes back after the
        queue's VisibilityTimeout and is found in the day file then (stored once)."""
        for attempt in range(TRIES):
            try:
                failed = self.client.delete(handles)
            except (QueueError, OSError) as exc:
                if isinstance(exc, QueueError) and exc.hopeless:
                    raise
                self.say(f"the delete of {len(handles)} stored messages failed ({_why(exc)})")
                self._sleep(PAUSES[attempt])
                continue
            for entry in failed:
                self.say(
                    f"a stored message was not deleted ({entry.get('ErrorCode', '?')}): "
                    "it comes back after the visibility timeout and is found again then"
                )
            return
        self.say(f"{len(handles)} stored messages not deleted: they come back and are found again then")


def _why(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, QueueError) else f"{type(exc).__name__}: {exc}"[:200]
