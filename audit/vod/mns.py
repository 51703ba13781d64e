"""The Simple Message Queue (formerly MNS) wire: its request signature, headers and XML documents.

Signature (https://www.alibabacloud.com/help/en/mns/sign-requests): `Authorization: MNS
AccessKeyId:Signature`, the signature base64(HMAC-SHA1(secret, VERB "\n" Content-MD5 "\n"
Content-Type "\n" Date "\n" CanonicalizedMNSHeaders CanonicalizedResource)); the canonical headers
are every `x-mns-*` header, lower-cased, sorted, `name:value\n` each; the resource is the request
URI with its query. Documents are XML in the namespace below; errors are `<Error>` with Code,
Message, RequestId, HostId (https://www.alibabacloud.com/help/en/mns/developer-reference/syntax-of-error-responses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from xml.etree import ElementTree
from xml.sax.saxutils import escape

VERSION = "2015-06-06"  # x-mns-version of every request
XMLNS = "http://mns.aliyuncs.com/doc/v1/"
BATCH = 16  # messages one BatchReceiveMessage returns and one BatchDeleteMessage deletes at most
MAX_WAIT = 30  # seconds of long polling (`waitseconds`) at most
CONTENT_TYPE = "text/xml;charset=UTF-8"


def string_to_sign(method: str, headers: Mapping[str, str], resource: str) -> str:
    """What is signed; `headers` with lower-case names."""
    canonical = "".join(f"{name}:{headers[name]}\n" for name in sorted(headers) if name.startswith("x-mns-"))
    return "\n".join(
        (method, headers.get("content-md5", ""), headers.get("content-type", ""), headers.get("date", ""))
    ) + "\n" + canonical + resource  # fmt: skip


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_headers(
    method: str, resource: str, body: bytes, key_id: str, secret: str, token: str | None, now: float
) -> dict[str, str]:
    """The headers of one request, Authorization last (lower-case names, as they are signed)."""
    headers = {"date": formatdate(now, usegmt=True), "x-mns-version": VERSION}
    if body:
        headers["content-type"] = CONTENT_TYPE
        headers["content-md5"] = content_md5(body)
    if token:
        headers["security-token"] = token  # the official client's header; not signed, as there
    headers["authorization"] = f"MNS {key_id}:{signature(secret, string_to_sign(method, headers, resource))}"
    return headers


def content_md5(body: bytes) -> str:
    """Content-MD5 as the official client (aliyun-mns-sdk 1.3.0, mns_client.build_header) sends it
    and the service accepts: base64 of the hex digest, not of the raw one."""
    return base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()


@dataclass(frozen=True)
class Message:
    """One received message: its id, the handle that deletes it, and its body as sent."""

    message_id: str
    receipt_handle: str
    body: str
    dequeue_count: int = 1


def document(root: str, children: Iterable[tuple[str, str]]) -> bytes:
    """`<root xmlns=…><name>value</name>…</root>`, the values escaped."""
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in children)
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{XMLNS}">{inner}</{root}>'.encode()


def nested(root: str, item: str, rows: Iterable[Iterable[tuple[str, str]]]) -> bytes:
    """`<root xmlns=…><item>…</item>…</root>`: a batch's document."""
    inner = "".join(
        f"<{item}>" + "".join(f"<{n}>{escape(v)}</{n}>" for n, v in row) + f"</{item}>" for row in rows
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{XMLNS}">{inner}</{root}>'.encode()


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rpartition("}")[2]


def fields_of(element: ElementTree.Element) -> dict[str, str]:
    """The children of a flat element by name: `<Message><MessageId>…` as {"MessageId": …}."""
    return {local(child.tag): child.text or "" for child in element}


def parse(data: bytes) -> ElementTree.Element:
    """The root of a document; ValueError when it is not XML. Python's expat refuses entity
    expansion bombs, and no external entity is ever fetched."""
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ValueError(f"not an XML document ({exc})") from None


def messages(data: bytes) -> list[Message]:
    """The messages of a (Batch)ReceiveMessage answer: `<Messages><Message>…` or one `<Message>`."""
    root = parse(data)
    found = [root] if local(root.tag) == "Message" else [m for m in root if local(m.tag) == "Message"]
    made = []
    for element in found:
        fields = fields_of(element)
        if not fields.get("ReceiptHandle"):
            raise ValueError("a message without a ReceiptHandle")
        count = fields.get("DequeueCount", "1")
        made.append(
            Message(
                fields.get("MessageId", ""),
                fields["ReceiptHandle"],
                fields.get("MessageBody", ""),
                int(count) if count.isdigit() else 1,
            )
        )
    return made


def errors(data: bytes) -> list[dict[str, str]]:
    """An error answer's entries: one `<Error>` (Code, Message…) or a batch's `<Errors><Error>`
    (ErrorCode, ErrorMessage, ReceiptHandle); empty when the body is no such document."""
    try:
        root = parse(data)
    except ValueError:
        return []
    if local(root.tag) == "Error":
        return [fields_of(root)]
    return [fields_of(entry) for entry in root if local(entry.tag) == "Error"]


def receipt_handles(handles: Iterable[str]) -> bytes:
    return document("ReceiptHandles", (("ReceiptHandle", handle) for handle in handles))


def body_md5(body: str) -> str:
    """MessageBodyMD5: the upper-case hex MD5 of the body as sent."""
    return hashlib.md5(body.encode()).hexdigest().upper()
