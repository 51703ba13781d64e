"""`vod-audit consume`: a Simple Message Queue's VOD events, each stored durably before it is deleted."""

from __future__ import annotations

import signal
from types import FrameType

from audit.commands.receive import open_route
from audit.common.errors import ExitStatus, UserError
from audit.common.terminal import Echo
from audit.credentials import chain
from audit.credentials.refresh import Keys
from audit.events.consumer import CannotStore, Consumer, Stopped
from audit.events.queue import QUEUE_NAME, QueueClient, QueueError
from audit.vod.transport import cannot_connect


def execute(
    queue: str,
    endpoint: str,
    events_dir: str,
    *,
    once: bool,
    wait: int,
    profile: str | None,
    metrics_file: str | None,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    if not QUEUE_NAME.fullmatch(queue):
        raise UserError(
            f"--queue {queue!r}: a queue name is letters, digits and hyphens, a letter or digit first"
        )
    if not endpoint.startswith(("https://", "http://")):
        raise UserError(
            f"--endpoint {endpoint!r}: the queue service's URL, https://ACCOUNT.mns.REGION.aliyuncs.com"
        )
    found = chain.resolve(profile)  # the audit's own chain; a CredentialError is one sentence
    keys = Keys(found.source, found.credentials).start()
    journal, tally, say = open_route("queue", events_dir, metrics_file, err)
    client = QueueClient(endpoint, queue, keys)
    consumer = Consumer(client, journal, tally, say, wait=wait)

    def stop(signum: int, frame: FrameType | None) -> None:
        # The batch in hand is stored and deleted first. A receive waiting on an empty queue is cut
        # short; one that may be bringing a batch is let finish first (audit.events.consumer.STOP_GRACE).
        consumer.stopping.set()
        look_again(signum, frame)

    def look_again(signum: int, frame: FrameType | None) -> None:
        left = consumer.cut_after()
        if left == 0:
            raise Stopped
        if left is not None:
            signal.setitimer(signal.ITIMER_REAL, left)  # SIGALRM: looks again once the grace is over

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGALRM, look_again)
    echo(f"consuming {queue} at {endpoint} into {events_dir}" + (" until it is empty" if once else ""))
    failure: str | None = None
    try:
        consumer.run(once)
    except Stopped:
        pass
    except QueueError as exc:
        failure = f"queue {queue} at {endpoint} refused: {exc}"
    except CannotStore as exc:
        failure = str(exc)
    except OSError as exc:
        failure = f"queue {queue}: {cannot_connect(exc, endpoint)[1]}"
    finally:
        client.close()
        keys.close()
        tally.publish()
        say(f"stopped: {tally.summary()}")
    if failure is not None:
        raise UserError(failure)
    return ExitStatus.OK
