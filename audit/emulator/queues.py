"""The emulator's Simple Message Queue (formerly MNS): queues that send, long-poll, hide and delete.

Operations as the service documents them (https://www.alibabacloud.com/help/en/mns/developer-reference/):
CreateQueue (`PUT /queues/NAME`), GetQueueAttributes (`GET /queues/NAME`), SendMessage and
BatchSendMessage (`POST /queues/NAME/messages`), ReceiveMessage and BatchReceiveMessage (`GET …/messages`,
`waitseconds`, `numOfMessages`): a received message is hidden for the queue's VisibilityTimeout and
then shown again unless deleted; DeleteMessage (`?ReceiptHandle=`) and BatchDeleteMessage (an XML
list). Every request is signed as the service checks it (audit.vod.mns), with the keys the VOD
gateway knows.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

from audit.emulator.gateway import Key, Request
from audit.vod import mns

TIME_WINDOW = 15 * 60  # seconds a request's Date may be off (the signing page)


@dataclass(frozen=True)
class QueueReply:
    status: int
    body: bytes = b""
    location: str | None = None  # CreateQueue's answer names the queue's URL


class QueueRefusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Message:
    message_id: str
    body: str
    enqueued: int  # milliseconds, as the service says times
    priority: str
    visible_at: float
    dequeues: int = 0
    first_dequeue: int = 0
    handle: str | None = None


@dataclass
class _Queue:
    name: str
    visibility: float
    created: int
    messages: dict[str, _Message] = field(default_factory=dict)  # in the order they were sent
    handles: dict[str, str] = field(default_factory=dict)  # receipt handle -> message id
    counts: dict[str, int] = field(default_factory=lambda: {"sent": 0, "received": 0, "deleted": 0})


class Queues:
    """Named queues, safe to share between the server's threads; a receive waits on a condition."""

    def __init__(
        self,
        names: Iterable[str],
        visibility: float,
        keys: Callable[[str], Key | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._visibility = visibility
        self._changed = threading.Condition()
        self._closed = False
        self._queues = {name: _Queue(name, visibility, self._ms()) for name in names}

    def _ms(self) -> int:
        return int(self._clock() * 1000)

    def close(self) -> None:
        """Every long poll answers now (the emulator stops)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def put(self, queue: str, body: str, delay: float = 0.0) -> str:
        """A message sent to `queue`; its id."""
        with self._changed:
            found = self._queues[queue]
            message_id = secrets.token_hex(16).upper()
            now = self._clock()
            found.messages[message_id] = _Message(message_id, body, int(now * 1000), "8", now + delay)
            found.counts["sent"] += 1
            self._changed.notify_all()
            return message_id

    def stats(self) -> dict[str, dict[str, int]]:
        with self._changed:
            now = self._clock()
            return {
                name: {
                    **queue.counts,
                    "active": sum(1 for m in queue.messages.values() if m.visible_at <= now),
                    "inactive": sum(1 for m in queue.messages.values() if m.visible_at > now),
                }
                for name, queue in self._queues.items()
            }

    def handle(self, request: Request, resource: str) -> QueueReply:
        """The answer to one request whose path starts with /queues; `resource` as sent (signed)."""
        try:
            self._authenticate(request, resource)
            parts = request.path.strip("/").split("/")
            if len(parts) == 2 and request.method == "PUT":
                made = self._create(parts[1], request.body)
                host = request.headers.get("host", "127.0.0.1")
                return QueueReply(made.status, made.body, f"http://{host}/queues/{parts[1]}")
            queue = self._queue(parts[1] if len(parts) > 1 else "")
            if len(parts) == 2 and request.method == "GET":
                return QueueReply(200, self._attributes(queue))
            if len(parts) != 3 or parts[2] != "messages":
                raise QueueRefusal(400, "InvalidRequestURL", "Http request URL format invalid.")
            if request.method == "POST":
                return self._send(queue, request.body)
            if request.method == "GET":
                return self._receive(queue, request.query)
            if request.method == "DELETE":
                return self._delete(queue, request.query, request.body)
            raise QueueRefusal(405, "InvalidRequestURL", "Http request method not supported.")
        except QueueRefusal as refusal:
            return QueueReply(refusal.status, _error(refusal.code, refusal.message, request))

    def _authenticate(self, request: Request, resource: str) -> None:
        headers = request.headers
        auth = headers.get("authorization", "")
        if not auth:
            raise QueueRefusal(400, "MissingAuthorizationHeader", "Authorization header is required.")
        scheme, _, credential = auth.partition(" ")
        key_id, _, sent = credential.partition(":")
        if scheme != "MNS" or not key_id or not sent:
            raise QueueRefusal(
                400, "InvalidAuthorizationHeader", "The Authorization header format is invalid."
            )
        if not headers.get("date"):
            raise QueueRefusal(400, "MissingDateHeader", "Date header is required.")
        try:
            dated = parsedate_to_datetime(headers["date"]).timestamp()
        except (TypeError, ValueError):
            raise QueueRefusal(400, "InvalidDateHeader", "The Date header format is invalid.") from None
        if abs(self._clock() - dated) > TIME_WINDOW:
            raise QueueRefusal(400, "TimeExpired", "The Http request you sent is expired.")
        if headers.get("x-mns-version") != mns.VERSION:
            raise QueueRefusal(400, "InvalidArgument", "x-mns-version must be 2015-06-06.")
        key = self._keys(key_id)
        if key is None:
            raise QueueRefusal(403, "InvalidAccessKeyId", "The AccessKey Id you provided is not exist.")
        md5 = headers.get("content-md5")
        if md5 is not None and md5 != mns.content_md5(request.body):
            raise QueueRefusal(400, "InvalidDegist", "The Content-MD5 you specified is invalid.")
        if mns.signature(key.secret, mns.string_to_sign(request.method, headers, resource)) != sent:
            raise QueueRefusal(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if key.token is not None and headers.get("security-token") != key.token:
            raise QueueRefusal(403, "AccessDenied", "The security token is missing or not this key's.")
        if key.expires is not None and self._clock() >= key.expires.timestamp():
            raise QueueRefusal(403, "AccessDenied", "The security token has expired.")

    def _queue(self, name: str) -> _Queue:
        with self._changed:
            found = self._queues.get(name)
        if found is None:
            raise QueueRefusal(404, "QueueNotExist", "The queue name you provided is not exist.")
        return found

    def _create(self, name: str, body: bytes) -> QueueReply:
        fields = mns.fields_of(_root(body)) if body else {}
        with self._changed:
            if name in self._queues:
                return QueueReply(204)
            visibility = fields.get("VisibilityTimeout", "")
            seconds = float(visibility) if visibility.isdigit() else self._visibility
            self._queues[name] = _Queue(name, seconds, self._ms())
        return QueueReply(201)

    def _attributes(self, queue: _Queue) -> bytes:
        counted = self.stats()[queue.name]
        return mns.document(
            "Queue",
            [
                ("QueueName", queue.name),
                ("CreateTime", str(queue.created // 1000)),
                ("LastModifyTime", str(queue.created // 1000)),
                ("VisibilityTimeout", str(int(queue.visibility))),
                ("MaximumMessageSize", "65536"),
                ("MessageRetentionPeriod", "345600"),
                ("DelaySeconds", "0"),
                ("PollingWaitSeconds", "0"),
                ("ActiveMessages", str(counted["active"])),
                ("InactiveMessages", str(counted["inactive"])),
                ("DelayMessages", "0"),
                ("LoggingEnabled", "False"),
            ],
        )

    def _send(self, queue: _Queue, body: bytes) -> QueueReply:
        root = _root(body)
        batch = mns.local(root.tag) == "Messages"
        entries = [mns.fields_of(m) for m in root] if batch else [mns.fields_of(root)]
        if not entries or len(entries) > mns.BATCH or any("MessageBody" not in e for e in entries):
            raise QueueRefusal(400, "InvalidArgument", "Each message needs a MessageBody; 16 at most.")
        sent = []
        for entry in entries:
            delay = entry.get("DelaySeconds", "0")
            message_id = self.put(queue.name, entry["MessageBody"], float(delay) if delay.isdigit() else 0.0)
            sent.append([("MessageId", message_id), ("MessageBodyMD5", mns.body_md5(entry["MessageBody"]))])
        if batch:
            return QueueReply(201, mns.nested("Messages", "Message", sent))
        return QueueReply(201, mns.document("Message", sent[0]))

    def _receive(self, queue: _Queue, query: Mapping[str, str]) -> QueueReply:
        wait = query.get("waitseconds", "0")
        many = query.get("numOfMessages")
        if not wait.isdigit() or int(wait) > mns.MAX_WAIT or (many is not None and not many.isdigit()):
            raise QueueRefusal(400, "InvalidArgument", "waitseconds is 0 to 30, numOfMessages 1 to 16.")
        wanted = int(many) if many is not None else 1
        if not 1 <= wanted <= mns.BATCH:
            raise QueueRefusal(400, "InvalidArgument", "numOfMessages is 1 to 16.")
        taken = self._take(queue, wanted, int(wait))
        if not taken:
            raise QueueRefusal(404, "MessageNotExist", "Message not exist.")
        rows = [_received(message) for message in taken]
        if many is None:
            return QueueReply(200, mns.document("Message", rows[0]))
        return QueueReply(200, mns.nested("Messages", "Message", rows))

    def _take(self, queue: _Queue, wanted: int, wait: int) -> list[_Message]:
        deadline = self._clock() + wait
        with self._changed:
            while True:
                now = self._clock()
                taken = []
                for message in queue.messages.values():
                    if message.visible_at <= now:
                        taken.append(message)
                        if len(taken) == wanted:
                            break
                if taken or now >= deadline or self._closed:
                    break
                hidden = [m.visible_at for m in queue.messages.values() if m.visible_at > now]
                self._changed.wait(min([deadline, *hidden]) - now)
            for message in taken:
                message.handle = f"1-{secrets.token_urlsafe(18)}"
                message.visible_at = now + queue.visibility
                message.dequeues += 1
                message.first_dequeue = message.first_dequeue or int(now * 1000)
                queue.handles[message.handle] = message.message_id
            queue.counts["received"] += len(taken)
            return taken

    def _delete(self, queue: _Queue, query: Mapping[str, str], body: bytes) -> QueueReply:
        if "ReceiptHandle" in query:
            if not self._remove(queue, query["ReceiptHandle"]):
                raise QueueRefusal(400, "ReceiptHandleError", "The receipt handle you provide is not valid.")
            return QueueReply(204)
        root = _root(body)
        handles = [child.text or "" for child in root if mns.local(child.tag) == "ReceiptHandle"]
        if not handles or len(handles) > mns.BATCH:
            raise QueueRefusal(400, "InvalidArgument", "1 to 16 receipt handles.")
        failed = [
            [("ErrorCode", "ReceiptHandleError"), ("ErrorMessage", "The receipt handle you provide is not valid."), ("ReceiptHandle", h)]
            for h in handles
            if not self._remove(queue, h)
        ]  # fmt: skip
        return QueueReply(404, mns.nested("Errors", "Error", failed)) if failed else QueueReply(204)

    def _remove(self, queue: _Queue, handle: str) -> bool:
        """Deletes the message this handle received, if it is still the message's handle and the
        message is still hidden (a handle is valid until NextVisibleTime)."""
        with self._changed:
            message = queue.messages.get(queue.handles.pop(handle, ""))
            if message is None or message.handle != handle or message.visible_at <= self._clock():
                return False
            del queue.messages[message.message_id]
            queue.counts["deleted"] += 1
            return True


def _received(message: _Message) -> list[tuple[str, str]]:
    return [
        ("MessageId", message.message_id),
        ("ReceiptHandle", message.handle or ""),
        ("MessageBodyMD5", mns.body_md5(message.body)),
        ("MessageBody", message.body),
        ("EnqueueTime", str(message.enqueued)),
        ("NextVisibleTime", str(int(message.visible_at * 1000))),
        ("FirstDequeueTime", str(message.first_dequeue)),
        ("DequeueCount", str(message.dequeues)),
        ("Priority", message.priority),
    ]


def _root(body: bytes) -> ElementTree.Element:
    try:
        return mns.parse(body)
    except ValueError:
        raise QueueRefusal(400, "MalformedXML", "The XML you provided was not well-formed.") from None


def _error(code: str, message: str, request: Request) -> bytes:
    host = request.headers.get("host", "mns.cn-shanghai.aliyuncs.com")
    request_id = secrets.token_hex(12).upper()
    return mns.document(
        "Error", [("Code", code), ("Message", message), ("RequestId", request_id), ("HostId", host)]
    )
