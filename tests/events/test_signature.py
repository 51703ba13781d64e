"""VOD's callback signature against OpenSSL's MD5 of the documented string, and its refusals (fast)."""

from __future__ import annotations

import subprocess

import pytest

from audit.events.signature import refused
from audit.vod.callback import callback_signature as signature

URL, STAMP, KEY = "https://www.example.com/your/callback", "1519375990", "test123"  # the reference's example


def test_the_signature_is_the_md5_of_url_timestamp_and_key_joined_by_bars():
    oracle = (
        subprocess.run(
            ["openssl", "dgst", "-md5", "-r"],
            input=f"{URL}|{STAMP}|{KEY}".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.split()[0]
        .decode()
    )
    assert signature(URL, STAMP, KEY) == oracle and len(oracle) == 32


@pytest.mark.parametrize(
    ("headers", "now", "why"),
    [
        ({}, 1519375990, "no X-VOD-TIMESTAMP"),
        ({"X-VOD-TIMESTAMP": "15e8", "X-VOD-SIGNATURE": "x"}, 1519375990, "not a Unix time"),
        ({"X-VOD-TIMESTAMP": STAMP, "X-VOD-SIGNATURE": "0" * 32}, 1519375990, "does not match"),
        (
            {"X-VOD-TIMESTAMP": STAMP, "X-VOD-SIGNATURE": signature(URL, STAMP, KEY)},
            1519375990 + 301,
            "away from now",
        ),
        (
            {"X-VOD-TIMESTAMP": STAMP, "X-VOD-SIGNATURE": signature(URL, STAMP, KEY)},
            1519375990 - 301,
            "away from now",
        ),
    ],
)
def test_unsigned_wrong_stale_and_future_deliveries_are_refused(headers, now, why):
    said = refused(headers, URL, KEY, now)
    assert said is not None and why in said and KEY not in said


def test_a_signed_delivery_within_the_skew_passes_whatever_the_case_of_its_hex():
    headers = {"X-VOD-TIMESTAMP": STAMP, "X-VOD-SIGNATURE": signature(URL, STAMP, KEY).upper()}
    assert refused(headers, URL, KEY, 1519375990 + 300) is None
    assert (
        refused(headers, URL + "/", KEY, 1519375990) == "X-VOD-SIGNATURE does not match"
    )  # the URL as given
