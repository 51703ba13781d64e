"""Issue #41: the queue's official client (aliyun-mns-sdk) is the oracle of our signature and of the
emulator's queue: it signs as we do, and it works unchanged against the emulator on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mns.account import Account
from mns.auth import Credentials as SdkCredentials
from mns.mns_client import MNSClient
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta

from audit.events.queue import QueueClient, QueueError
from audit.vod import mns
from audit.vod.keys import Credentials, FixedKeys

AK, SECRET = "emulator-ak", "emulator-secret"
names = st.text(st.sampled_from("abcdefghij-"), min_size=1, max_size=12)
values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    resource=st.sampled_from(["/queues/q/messages?numOfMessages=16&waitseconds=3", "/queues/q", "/queues/a-b/messages"]),
    extra=st.dictionaries(names.map(lambda n: "x-mns-" + n), values, max_size=3),
    body=st.binary(max_size=64),
    token=st.sampled_from(["", "sts-token"]),
)  # fmt: skip
def test_our_signature_is_the_official_clients(method, resource, extra, body, token):
    ours = mns.signed_headers(method, resource, body, AK, SECRET, token or None, 1_765_000_000.0)
    headers = {**ours, **extra}
    del headers["authorization"]
    headers.pop("security-token", None)
    client = MNSClient("http://127.0.0.1:1", AK, SECRET)  # makes no connection until a call
    sdk = client.get_signature(method, headers, resource, SdkCredentials(AK, SECRET, token))
    ours_with_extra = f"MNS {AK}:{mns.signature(SECRET, mns.string_to_sign(method, headers, resource))}"
    assert sdk == ours_with_extra
    if not extra:
        assert sdk == ours["authorization"]
    if body:  # the official client's Content-MD5: base64 of the hex digest
        assert ours["content-md5"] == base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the client's own attribute getters say so
def test_the_official_client_works_unchanged_against_the_emulators_queue(start_emulator):
    emulator = start_emulator(qps=0, queue="vod-events", queue_visibility=30)
    queue = Account(emulator.url, AK, SECRET).get_queue("vod-events")
    event = {"EventType": "StreamTranscodeComplete", "JobId": "a" * 32, "Status": "success"}
    sent = queue.send_message(Message(json.dumps(event)))  # base64-encoded by default
    assert sent.message_body_md5 == mns.body_md5(base64.b64encode(json.dumps(event).encode()).decode())
    queue.set_encoding(False)
    raw = [Message(json.dumps({**event, "JobId": str(n) * 32})) for n in range(3)]
    assert len(queue.batch_send_message(raw)) == 3
    assert queue.get_attributes().queue_name == "vod-events"
    assert emulator.queues.stats()["vod-events"]["active"] == 4

    queue.set_encoding(True)
    first = queue.receive_message(wait_seconds=1)
    assert json.loads(first.message_body) == event and first.dequeue_count == 1
    queue.delete_message(first.receipt_handle)
    queue.set_encoding(False)
    rest = queue.batch_receive_message(16, wait_seconds=1)
    assert sorted(json.loads(m.message_body)["JobId"][0] for m in rest) == ["0", "1", "2"]
    queue.batch_delete_message([m.receipt_handle for m in rest])
    with pytest.raises(MNSServerException) as empty:
        queue.receive_message(wait_seconds=0)
    assert empty.value.type == "MessageNotExist"
    with pytest.raises(MNSServerException) as stale:  # a handle deletes once
        queue.delete_message(first.receipt_handle)
    assert stale.value.type == "ReceiptHandleError"
    assert emulator.queues.stats()["vod-events"] == {
        "sent": 4, "received": 4, "deleted": 4, "active": 0, "inactive": 0,
    }  # fmt: skip

    created = Account(emulator.url, AK, SECRET).get_queue("another")
    created.create(QueueMeta())
    assert created.get_attributes().queue_name == "another"
    with pytest.raises(MNSServerException) as wrong:
        Account(emulator.url, AK, "not-the-secret").get_queue("vod-events").get_attributes()
    assert wrong.value.type == "SignatureDoesNotMatch"


def test_a_message_not_deleted_comes_back_after_the_visibility_timeout(start_emulator):
    emulator = start_emulator(qps=0, queue="q", queue_visibility=0.5)
    emulator.queues.put("q", '{"EventType": "x"}')
    client = QueueClient(emulator.url, "q", FixedKeys(Credentials.of(AK, SECRET)))
    first = client.receive(0)
    assert len(first) == 1 and client.receive(0) == []  # hidden while in hand
    again = client.receive(5)  # long polling: answered once it is shown again
    assert [m.message_id for m in again] == [first[0].message_id] and again[0].dequeue_count == 2
    failed = client.delete([first[0].receipt_handle, again[0].receipt_handle])
    assert [entry["ReceiptHandle"] for entry in failed] == [first[0].receipt_handle]
    assert emulator.queues.stats()["q"]["deleted"] == 1
    with pytest.raises(QueueError) as refused:
        QueueClient(emulator.url, "q", FixedKeys(Credentials.of("unknown", SECRET))).receive(0)
    assert refused.value.hopeless and refused.value.code == "InvalidAccessKeyId"
