"""Property tests: however the bytes of a stream are split, the decoder yields the same events,
and they are the events that were serialised."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistants_async.sse import ServerSentEvent, SSEDecoder

_NEWLINE = re.compile(r"\r\n|\r|\n")
_ENDINGS = ["\n", "\r", "\r\n"]
_BLANK_LINE = re.compile(rb"(\r\n|\r|\n)(\r\n|\r|\n)")

# One line of a field value: anything but CR and LF (surrogates cannot be UTF-8 encoded).
line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))
any_text = st.text(st.characters(blacklist_categories=["Cs"]))


@dataclass
class Block:
    event: str | None
    data: str | None  # None: no data line at all, so nothing is dispatched
    id: str | None
    retry: int | None
    comments: list[str]
    space: bool  # write "field: value" (True) or "field:value"


blocks = st.builds(
    Block,
    event=st.none() | line_text,
    data=st.none() | any_text,
    id=st.none() | line_text,
    retry=st.none() | st.integers(min_value=0, max_value=10**12),
    comments=st.lists(line_text, max_size=2),
    space=st.booleans(),
)


def field(name: str, value: str, space: bool) -> str:
    # Without the space, a value that starts with a space would lose it: force one then.
    return f"{name}: {value}" if space or value.startswith(" ") else f"{name}:{value}"


def serialise(items: list[Block], endings: list[str], bom: bool) -> bytes:
    lines: list[str] = []
    for block in items:
        lines.extend(":" + c for c in block.comments[:1])
        if block.id is not None:
            lines.append(field("id", block.id, block.space))
        if block.event is not None:
            lines.append(field("event", block.event, block.space))
        if block.retry is not None:
            lines.append(field("retry", str(block.retry), block.space))
        if block.data is not None:
            lines.extend(field("data", part, block.space) for part in _NEWLINE.split(block.data))
        lines.extend(":" + c for c in block.comments[1:])
        lines.append("")
    out: list[str] = []
    previous = ""
    for i, line in enumerate(lines):
        ending = endings[i % len(endings)]
        # CR then an empty line ended by LF would read as one CRLF: end that empty line with CRLF.
        if previous == "\r" and not line and ending == "\n":
            ending = "\r\n"
        out.append(line + ending)
        previous = ending
    return (b"\xef\xbb\xbf" if bom else b"") + "".join(out).encode()


def expected_events(items: list[Block]) -> list[ServerSentEvent]:
    events = []
    last_id = ""
    for block in items:
        if block.id is not None and "\0" not in block.id:
            last_id = block.id
        if block.data is not None:
            data = "\n".join(_NEWLINE.split(block.data))
            events.append(ServerSentEvent(block.event or "message", data, last_id, block.retry))
    return events


def decode_chunks(raw: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    bounds = [0, *sorted(cuts), len(raw)]
    for start, stop in zip(bounds, bounds[1:], strict=False):
        events.extend(decoder.decode(raw[start:stop]))
    events.extend(decoder.flush())
    return events


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent], list[int]]:
    items = draw(st.lists(blocks, max_size=8))
    endings = draw(st.lists(st.sampled_from(_ENDINGS), min_size=1, max_size=4))
    raw = serialise(items, endings, draw(st.booleans()))
    cuts = draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=12))
    return raw, expected_events(items), cuts


@given(streams())
@settings(max_examples=300)
def test_any_split_of_any_stream_decodes_to_the_serialised_events(
    case: tuple[bytes, list[ServerSentEvent], list[int]],
) -> None:
    raw, expected, cuts = case
    whole = decode_chunks(raw, [])
    assert whole == expected
    assert decode_chunks(raw, cuts) == whole


@given(streams())
@settings(max_examples=50)
def test_byte_by_byte_equals_single_chunk(
    case: tuple[bytes, list[ServerSentEvent], list[int]],
) -> None:
    raw, expected, _ = case
    assert decode_chunks(raw, list(range(1, len(raw)))) == expected


@given(streams())
def test_one_block_per_chunk_equals_single_chunk(
    case: tuple[bytes, list[ServerSentEvent], list[int]],
) -> None:
    raw, expected, _ = case
    # A comment first, so that every block arrives after the start-of-stream (BOM) check.
    body = raw.removeprefix(b"\xef\xbb\xbf")
    lead = raw[: len(raw) - len(body)] + b":\n"
    cuts = [len(lead)] + [len(lead) + m.end() for m in _BLANK_LINE.finditer(body)]
    assert decode_chunks(lead + body, cuts) == expected


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=8))
def test_arbitrary_bytes_split_anywhere_give_the_same_outcome(data: bytes, cuts: list[int]) -> None:
    # Garbage in: whatever the decoder does with the whole buffer (events or an error type),
    # it does the same with the buffer in pieces.
    def outcome(points: list[int]) -> object:
        try:
            return decode_chunks(data, [c for c in points if c <= len(data)])
        except Exception as exc:  # comparing the error type is the point
            return type(exc)

    assert outcome(cuts) == outcome([])


def _recorded(shared_dir: Path) -> list[tuple[bytes, list[ServerSentEvent]]]:
    out = []
    for path in sorted((shared_dir / "recorded-streams").glob("*.sse")):
        expected = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
        events = [ServerSentEvent(e["event"], e["data"], e["id"], e["retry"]) for e in expected]
        out.append((path.read_bytes(), events))
    return out


@given(data=st.data())
@settings(max_examples=60)
def test_recorded_streams_under_random_splits(shared_dir: Path, data: st.DataObject) -> None:
    recorded = _recorded(shared_dir)
    assert len(recorded) >= 6
    raw, expected = data.draw(st.sampled_from(recorded))
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=40))
    assert decode_chunks(raw, cuts) == expected
