"""Channel page arithmetic and the bounded store of recently read messages."""

from __future__ import annotations

import pytest

from loom.models.base import encode
from loom.models.messages import ChannelMessage
from loom.services import channel_pages
from loom.services.channel_pages import RecentMessages, page_range


def data(i: int, size: int = 10) -> bytes:
    return encode(ChannelMessage(id=str(i), handle="h", message="x" * size))


def test_page_ranges() -> None:
    assert page_range(1, 10, 3, None, None) == (8, 10, True)
    assert page_range(1, 10, 50, None, None) == (1, 10, False)
    assert page_range(1, 10, 3, 5, None) == (2, 4, True)
    assert page_range(1, 10, 3, 3, None) == (1, 2, False)
    assert page_range(1, 10, 3, None, 7) == (8, 10, False)
    assert page_range(1, 10, 3, None, 2) == (3, 5, True)
    assert page_range(5, 10, 3, 4, None)[1] < page_range(5, 10, 3, 4, None)[0]  # empty: all gone


def test_a_run_is_served_only_when_every_message_is_kept_for_the_same_stream() -> None:
    recent = RecentMessages()
    for seq in (1, 2, 4):
        recent.keep("c", "t1", seq, data(seq))
    assert recent.has("c", "t1", 1, 2) and not recent.has("c", "t1", 1, 4)
    run = recent.run("c", "t1", 1, 2)
    assert run is not None and [(seq, k.message.id) for seq, k in run if k.message] == [(1, "1"), (2, "2")]
    assert recent.run("c", "t1", 2, 4) is None
    assert recent.run("c", "t2", 1, 2) is None  # deleted and made again: nothing kept of it
    assert not recent.has("c", "t1", 1, 2)
    malformed = recent.keep("c", "t2", 1, b"{not json")
    assert malformed.message is None and recent.has("c", "t2", 1, 1)


def test_derived_values_are_made_once_per_kept_message() -> None:
    recent = RecentMessages()
    kept = recent.keep("c", "t", 1, data(1))
    assert kept.message is not None
    made: list[int] = []
    for _ in range(3):
        assert recent.derived("c", 1, kept.message, "k", lambda: made.append(1) or "v") == "v"
    assert made == [1]
    other = ChannelMessage(id="other", handle="h", message="m")
    assert recent.derived("c", 1, other, "k", lambda: "fresh") == "fresh"


def test_what_is_kept_stays_within_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel_pages, "PER_CHANNEL", 10)
    monkeypatch.setattr(channel_pages, "BUDGET_BYTES", 2000)
    monkeypatch.setattr(channel_pages, "LARGEST_KEPT", 500)
    recent = RecentMessages()
    for seq in range(1, 31):
        recent.keep("a", "t", seq, data(seq))
        recent.trim("a")
    assert recent.has("a", "t", 22, 30) and not recent.has("a", "t", 1, 1)  # the newest are kept
    recent.keep("a", "t", 31, data(31, size=600))
    assert not recent.has("a", "t", 31, 31)  # too big to keep
    for seq in range(1, 21):
        recent.keep("b", "t", seq, data(seq, size=300))
        recent.trim("b")
    assert not recent.has("a", "t", 30, 30)  # the other channel went first
    kept = sum(recent.has("b", "t", seq, seq) for seq in range(1, 21))
    assert 0 < kept <= 2000 // 300 and recent.has("b", "t", 20, 20)
