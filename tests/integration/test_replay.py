"""Reading runs of stored messages against a real server: batched direct get and its fallback."""

from __future__ import annotations

from nats.js.api import StreamConfig

from loom.bus.replay import Batch, consumer_range, direct_batch, read_range, read_run
from loom.runtime import Runtime


async def _stream(runtime: Runtime, *, allow_direct: bool) -> tuple[str, str]:
    """A stream with subjects ``<p>.a`` and ``<p>.b``: a0 b1 a2 b3 ... (seq = i + 1), a4 deleted."""
    project = runtime.settings.project_id
    name, prefix = f"T_{project}_{'D' if allow_direct else 'C'}", f"t.{project}.{int(allow_direct)}"
    await runtime.bus.js.add_stream(
        StreamConfig(name=name, subjects=[f"{prefix}.*"], allow_direct=allow_direct)
    )
    for i in range(10):
        kind = "a" if i % 2 == 0 else "b"
        await runtime.bus.js.publish(f"{prefix}.{kind}", f"{kind}{i}".encode(), headers={"X-Mark": str(i)})
    await runtime.bus.js.delete_msg(name, 5)  # a4
    return name, f"{prefix}.a"


def _shape(batch: Batch | None) -> tuple[list[tuple[int, bytes]], int]:
    assert batch is not None
    return [(m.seq, m.data) for m in batch.messages], batch.pending


async def test_direct_batch_reads_one_subject_from_a_sequence_in_one_request(runtime: Runtime) -> None:
    stream, subject = await _stream(runtime, allow_direct=True)
    before = runtime.bus.nc.stats["out_msgs"]
    batch = await direct_batch(runtime.bus, stream, subject, 2, 2)
    assert runtime.bus.nc.stats["out_msgs"] - before == 1
    assert _shape(batch) == ([(3, b"a2"), (7, b"a6")], 1)  # a4 is gone; a8 is left
    assert batch is not None and batch.messages[0].headers["X-Mark"] == "2"
    assert batch.messages[0].subject == subject
    assert _shape(await direct_batch(runtime.bus, stream, subject, 1, 100)) == (
        [(1, b"a0"), (3, b"a2"), (7, b"a6"), (9, b"a8")],
        0,
    )
    assert _shape(await direct_batch(runtime.bus, stream, subject, 10, 5)) == ([], 0)
    assert _shape(await direct_batch(runtime.bus, stream, subject, 1, 0)) == ([], 0)


async def test_without_direct_gets_a_consumer_reads_the_same_run(runtime: Runtime) -> None:
    direct_stream, direct_subject = await _stream(runtime, allow_direct=True)
    stream, subject = await _stream(runtime, allow_direct=False)
    assert await direct_batch(runtime.bus, stream, subject, 1, 3) is None
    for start, count in [(1, 3), (2, 2), (1, 100), (10, 5)]:
        expected = _shape(await direct_batch(runtime.bus, direct_stream, direct_subject, start, count))
        assert _shape(await read_range(runtime.bus, stream, subject, start, count)) == expected
        assert _shape(
            await read_range(runtime.bus, direct_stream, direct_subject, start, count, direct=False)
        ) == (expected)
        assert (
            _shape(await consumer_range(runtime.bus, direct_stream, direct_subject, start, count)) == expected
        )
    consumers = await runtime.bus.js.consumers_info(stream)
    assert consumers == []  # every ephemeral reader was removed


async def test_a_run_of_sequences_is_numbered_right_with_or_without_gaps(runtime: Runtime) -> None:
    project = runtime.settings.project_id
    stream, subject = f"T_{project}_RUN", f"t.{project}.run"
    await runtime.bus.js.add_stream(StreamConfig(name=stream, subjects=[subject], allow_direct=True))
    for i in range(1, 7):
        await runtime.bus.js.publish(subject, f"m{i}".encode(), headers={"Nats-Msg-Id": str(i)})
    before = runtime.bus.nc.stats["out_msgs"]
    run = await read_run(runtime.bus, stream, subject, 2, 4)
    assert runtime.bus.nc.stats["out_msgs"] - before == 1
    assert [(m.seq, m.subject, m.data) for m in run] == [
        (2, subject, b"m2"),
        (3, subject, b"m3"),
        (4, subject, b"m4"),
    ]
    await runtime.bus.js.delete_msg(stream, 3)
    assert [(m.seq, m.data) for m in await read_run(runtime.bus, stream, subject, 2, 4)] == [
        (2, b"m2"),
        (4, b"m4"),
    ]
    assert [m.seq for m in await read_run(runtime.bus, stream, subject, 5, 9)] == [5, 6]
    assert await read_run(runtime.bus, stream, subject, 7, 9) == []
