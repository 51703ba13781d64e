"""The time checks that build no datetime in the common case say what parsing would say (issue #43)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from audit.common.timeutil import is_real_utc, parse_utc, utc_before

digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
shaped = st.builds(
    lambda year, month, day, hour, minute, second: f"{year:04d}-{month}-{day}T{hour}:{minute}:{second}Z",
    st.integers(0, 9999), digits, digits, digits, digits, digits,
)  # fmt: skip


@given(shaped)
@example("2026-02-29T00:00:00Z")
@example("2024-02-29T23:59:59Z")
@example("2026-12-31T24:00:00Z")
@example("2026-06-30T12:00:60Z")
@example("0000-01-01T00:00:00Z")
def test_a_real_instant_is_told_as_parsing_tells_it(value):
    assert is_real_utc(value) == (parse_utc(value) is not None)


@given(shaped, shaped)
@example("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")
@example("2026-02-30T00:00:00Z", "2026-03-01T00:00:00Z")
def test_order_of_two_times_is_the_order_of_their_instants(end, start):
    ended, begun = parse_utc(end), parse_utc(start)
    assert utc_before(end, start) == bool(ended and begun and ended < begun)
    assert not utc_before(None, start) and not utc_before(end, 5)
