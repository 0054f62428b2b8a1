"""Names: nothing a user types becomes a wildcard, a separator, or another project's name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loom.bus.connect import redact_url, scrub, strip_credentials
from loom.bus.layout import Layout
from loom.errors import InvalidArgument
from loom.names import NAME_PATTERN, validate_name


@pytest.mark.parametrize("bad", ["*", ">", "a.b", "x y", "", "_internal", "-x", "a" * 65, "a\nb", "é"])
def test_bad_names_are_rejected_with_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_name(bad, "capability")
    assert caught.value.field == "capability"


def test_names_are_lower_cased() -> None:
    assert validate_name("Review", "capability") == "review"


@given(st.text(max_size=80))
def test_any_accepted_name_is_one_subject_token(raw: str) -> None:
    try:
        name = validate_name(raw, "channel")
    except InvalidArgument:
        return
    assert NAME_PATTERN.fullmatch(name)
    subject = Layout("p").channel_subject(name)
    assert subject.split(".") == ["loom", "p", "ch", name]
    assert not ({"*", ">", " "} & set(subject))


def test_projects_never_share_names() -> None:
    a, b = Layout("team-a"), Layout("team-a-work")
    assert a.work_stream.name != b.work_stream.name
    assert {a.agents_bucket.name, a.work_bucket.name}.isdisjoint({b.agents_bucket.name, b.work_bucket.name})
    assert not b.work_subject("x", None, 5).startswith(a.prefix + ".")


def test_internal_tokens_cannot_be_produced_by_users() -> None:
    layout = Layout("p")
    assert layout.wake_subject("g").split(".")[2] == "_wake"
    with pytest.raises(InvalidArgument):
        layout.work_subject("_wake", None, 1)


def test_priority_subjects_sort_highest_first() -> None:
    layout = Layout("p")
    subjects = [layout.work_subject("c", None, p) for p in (10, 5, 1)]
    assert subjects == sorted(subjects)


def test_credentials_are_redacted() -> None:
    assert redact_url("nats://u:secret@h:4222,nats://h2:4222") == "nats://***@h:4222,nats://h2:4222"
    assert strip_credentials("nats://u:secret@h:4222,tls://t@h2:4222") == "nats://h:4222,tls://h2:4222"
    assert "secret" not in scrub("failed to connect to nats://u:secret@h:4222: refused")
