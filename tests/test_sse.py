from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from assistants_async._errors import EventTooLargeError, StreamDecodeError
from assistants_async.sse import ServerSentEvent, SSEDecoder

E = ServerSentEvent


def decode_all(chunks: Iterable[bytes], **kwargs: int | None) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**kwargs)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.decode(chunk))
    events.extend(decoder.flush())
    return events


def decode(raw: bytes) -> list[ServerSentEvent]:
    return decode_all([raw])


# -- WHATWG HTML spec examples (section "Server-sent events") ------------------------------


def test_spec_stock_example_multiline_data() -> None:
    assert decode(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [E("message", "YHOO\n+2\n10")]


def test_spec_example_comment_id_reset_and_unterminated_tail() -> None:
    raw = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n"
    )
    assert decode(raw) == [
        E("message", "first event", "1"),
        E("message", "second event", ""),
        # " third event" never got its blank line: discarded at end of stream.
    ]


def test_spec_example_empty_data_lines() -> None:
    assert decode(b"data\n\ndata\ndata\n\ndata:") == [E("message", ""), E("message", "\n")]


def test_spec_example_space_after_colon_is_optional() -> None:
    assert decode(b"data:test\n\ndata: test\n\n") == [E("message", "test"), E("message", "test")]


def test_spec_example_event_types() -> None:
    raw = b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    assert decode(raw) == [E("add", "73857293"), E("remove", "2153"), E("add", "113411")]


# -- field rules -----------------------------------------------------------------------------


def test_only_one_leading_space_is_removed_and_later_colons_stay() -> None:
    assert decode(b"data:  two spaces\n\ndata: a:b: c\n\n") == [
        E("message", " two spaces"),
        E("message", "a:b: c"),
    ]


def test_event_type_resets_after_each_block_even_without_dispatch() -> None:
    raw = b"event: lonely\n\ndata: x\n\nevent: typed\ndata: y\n\ndata: z\n\n"
    assert decode(raw) == [E("message", "x"), E("typed", "y"), E("message", "z")]


def test_empty_event_field_means_message() -> None:
    assert decode(b"event:\ndata: x\n\n") == [E("message", "x")]


def test_id_persists_and_nul_id_is_ignored() -> None:
    decoder = SSEDecoder()
    raw = b"id: 7\ndata: a\n\ndata: b\n\nid: bad\x00id\ndata: c\n\nid:\ndata: d\n\n"
    assert decoder.decode(raw) == [E("message", "a", "7"), E("message", "b", "7")] + [
        E("message", "c", "7"),
        E("message", "d", ""),
    ]
    assert decoder.last_event_id == ""


def test_id_without_data_still_updates_last_event_id() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"id: 42\n\n") == []
    assert decoder.last_event_id == "42"
    assert decoder.decode(b"data: x\n\n") == [E("message", "x", "42")]


@pytest.mark.parametrize("value", [b"", b"+1", b"-1", b"1.5", b"1e3", b"  12", b"12 ", b"\xd9\xa1"])
def test_retry_must_be_only_ascii_digits(value: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"retry:" + value + b"\ndata: x\n\n") == [E("message", "x")]
    assert decoder.retry is None


def test_retry_digits_set_on_its_event_and_on_the_decoder() -> None:
    decoder = SSEDecoder()
    events = decoder.decode(b"retry: 0150\ndata: x\n\ndata: y\n\nretry: 9\n\n")
    assert events == [E("message", "x", "", 150), E("message", "y", "", None)]
    assert decoder.retry == 9


def test_comments_and_unknown_fields_are_ignored() -> None:
    raw = b": keep-alive\n:\nfoo: bar\nDATA: shouted\nEvent: no\ndata: x\n: inner comment\n\n"
    assert decode(raw) == [E("message", "x")]


def test_comment_only_blocks_dispatch_nothing() -> None:
    assert decode(b": ping\n\n: ping\n\n\n\n") == []


def test_line_without_colon_is_a_field_with_empty_value() -> None:
    assert decode(b"data\nevent\n\n") == [E("message", "")]


def test_unterminated_final_block_is_discarded_at_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"event: done\ndata: [DONE]\n") == []
    assert decoder.flush() == []


def test_flush_keeps_last_event_id_for_a_reconnection() -> None:
    decoder = SSEDecoder()
    decoder.decode(b"id: 3\ndata: a\n\ndata: partial")
    decoder.flush()
    assert decoder.last_event_id == "3"
    # The partial line is gone: the next connection starts clean.
    assert decoder.decode(b"data: b\n\n") == [E("message", "b", "3")]


def test_json_helper() -> None:
    (event,) = decode(b'event: thread.run.created\ndata: {"id": "run_1", "n": [1, 2]}\n\n')
    assert event.json() == {"id": "run_1", "n": [1, 2]}
    with pytest.raises(json.JSONDecodeError):
        E("done", "[DONE").json()


def test_max_event_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_event_bytes=0)


# -- line endings and chunk boundaries ----------------------------------------------------------

SAMPLE = (
    b": welcome\n"
    b"retry: 3000\n"
    b"event: thread.run.created\n"
    b'data: {"id":"run_1","status":"queued"}\n'
    b"\n"
    b"id: 17\n"
    b"event: thread.message.delta\n"
    b'data: {"delta":"h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x80\xa8 \xe4\xb8\xad"}\n'
    b"\n"
    b"data: line one\n"
    b"data:\n"
    b"data:  line three\n"
    b"\n"
    b": keep-alive\n"
    b"\n"
    b"event: done\n"
    b"data: [DONE]\n"
    b"\n"
)
SAMPLE_EVENTS = [
    E("thread.run.created", '{"id":"run_1","status":"queued"}', "", 3000),
    E("thread.message.delta", '{"delta":"héllo 😀 \u2028 中"}', "17"),
    E("message", "line one\n\n line three", "17"),
    E("done", "[DONE]", "17"),
]


def test_sample_single_chunk() -> None:
    assert decode(SAMPLE) == SAMPLE_EVENTS


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_two_chunk_split_for_each_line_ending(ending: bytes) -> None:
    raw = SAMPLE.replace(b"\n", ending)
    for i in range(len(raw) + 1):
        assert decode_all([raw[:i], raw[i:]]) == SAMPLE_EVENTS, f"split at {i}"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_byte_by_byte(ending: bytes) -> None:
    raw = SAMPLE.replace(b"\n", ending)
    assert decode_all(raw[i : i + 1] for i in range(len(raw))) == SAMPLE_EVENTS


def test_every_three_chunk_split_of_a_crlf_stream() -> None:
    raw = b"data: a\r\n\r\nevent: x\r\ndata: \xf0\x9f\x98\x80\r\n\r\n"
    expected = [E("message", "a"), E("x", "😀")]
    for i in range(len(raw) + 1):
        for j in range(i, len(raw) + 1):
            assert decode_all([raw[:i], raw[i:j], raw[j:]]) == expected, (i, j)


def test_mixed_line_endings() -> None:
    raw = b"event: a\rdata: 1\r\n\ndata: 2\n\r\r\ndata: 3\r\r"
    assert decode(raw) == [E("a", "1"), E("message", "2"), E("message", "3")]


def test_cr_then_lf_in_separate_chunks_is_one_line_end() -> None:
    # If the LF were a second line end, the event would be dispatched early as "a" alone.
    assert decode_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [E("message", "a\nb")]


def test_cr_flag_survives_an_empty_chunk() -> None:
    assert decode_all([b"data: a\r", b"", b"\n\r", b"", b"\n"]) == [E("message", "a")]


def test_two_crs_are_two_line_ends() -> None:
    assert decode_all([b"data: a\r", b"\r", b"data: b\r\r"]) == [
        E("message", "a"),
        E("message", "b"),
    ]


@pytest.mark.parametrize(
    "separator",
    ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"],
)
def test_unicode_line_separators_do_not_split(separator: str) -> None:
    raw = f"data: a{separator}b\ndata: c\n\n".encode()
    assert decode(raw) == [E("message", f"a{separator}b\nc")]
    raw = f"event: x{separator}y\ndata: a\n\n".encode()
    assert decode(raw) == [E(f"x{separator}y", "a")]


def test_four_byte_emoji_split_one_plus_three() -> None:
    emoji = "😀".encode()
    assert len(emoji) == 4
    chunks = [b"data: <" + emoji[:1], emoji[1:] + b">\n\n"]
    assert decode_all(chunks) == [E("message", "<😀>")]


def test_every_split_inside_multibyte_characters() -> None:
    raw = "event: é\ndata: 中文😀ü\n\n".encode()
    for i in range(len(raw) + 1):
        assert decode_all([raw[:i], raw[i:]]) == [E("é", "中文😀ü")]


# -- byte order mark -----------------------------------------------------------------------------


def test_leading_bom_is_dropped() -> None:
    assert decode(b"\xef\xbb\xbfdata: x\n\n") == [E("message", "x")]


@pytest.mark.parametrize("cut", [[1], [2], [1, 2], [3]])
def test_bom_split_across_chunks(cut: list[int]) -> None:
    raw = b"\xef\xbb\xbfdata: x\n\n"
    bounds = [0, *cut, len(raw)]
    chunks = [raw[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert decode_all(chunks) == [E("message", "x")]


def test_bom_is_dropped_only_at_the_very_start() -> None:
    # A second BOM makes the field name "\ufeffdata", an unknown field.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [E("message", "y")]
    assert decode(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == [E("message", "a")]


def test_bom_prefix_that_is_not_a_bom_is_kept() -> None:
    # "\xef\xbb" followed by something else: not a BOM, the bytes belong to the first line.
    assert decode_all([b"\xef", b"\xbb", b"Xdata: x\n\ndata: y\n\n"]) == [E("message", "y")]
    assert decode_all([b"d", b"ata: x\n\n"]) == [E("message", "x")]


def test_bom_inside_data_is_kept() -> None:
    assert decode(b"data: \xef\xbb\xbfx\n\n") == [E("message", "\ufeffx")]


# -- invalid UTF-8 ------------------------------------------------------------------------------


def test_invalid_utf8_in_data_raises_stream_decode_error() -> None:
    decoder = SSEDecoder()
    with pytest.raises(StreamDecodeError) as info:
        decoder.decode(b'event: thread.message.delta\ndata: {"v": "\xff\xfe"}\n\n')
    assert info.value.event == "thread.message.delta"
    assert info.value.data is not None and "\ufffd" in info.value.data
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_truncated_multibyte_at_line_end_is_invalid() -> None:
    with pytest.raises(StreamDecodeError):
        decode(b"data: \xf0\x9f\x98\ndata: \x80\n\n")


@pytest.mark.parametrize("raw", [b"event: \xff\ndata: x\n\n", b"id: \xc3\ndata: x\n\n"])
def test_invalid_utf8_in_event_or_id_raises(raw: bytes) -> None:
    with pytest.raises(StreamDecodeError):
        decode(raw)


def test_invalid_utf8_in_comments_and_unknown_fields_is_ignored() -> None:
    assert decode(b": \xff\xfe\nx-\xff: \xfe\ndata: ok\n\n") == [E("message", "ok")]


# -- size cap -----------------------------------------------------------------------------------


def test_event_within_cap_is_delivered_intact_from_many_small_chunks() -> None:
    payload = b'{"v":"' + b"x" * 2_000_000 + b'"}'
    raw = b"event: big\ndata: " + payload + b"\n\n"
    chunks = [raw[i : i + 1024] for i in range(0, len(raw), 1024)]
    events = decode_all(chunks, max_event_bytes=4 * 1024 * 1024)
    assert events == [E("big", payload.decode())]


def test_endless_line_fails_as_soon_as_the_cap_is_crossed() -> None:
    cap = 64 * 1024
    decoder = SSEDecoder(max_event_bytes=cap)
    decoder.decode(b"event: x\n")
    fed = 0
    with pytest.raises(EventTooLargeError) as info:
        chunk = b"data: " + b"a" * 1018
        while fed < 100 * cap:
            decoder.decode(chunk)
            fed += len(chunk)
            chunk = b"a" * 1024
    assert info.value.limit == cap
    # It failed on the chunk that crossed the cap, not "much later".
    assert cap - 1024 <= fed <= cap


def test_many_data_lines_past_the_cap_raise() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(EventTooLargeError):
        for _ in range(100):
            decoder.decode(b"data: " + b"z" * 50 + b"\n")


def test_cap_counts_the_current_event_only() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    block = b"data: " + b"q" * 80 + b"\n\n"
    events = []
    for _ in range(50):
        events += decoder.decode(block)
    assert len(events) == 50


def test_cap_none_disables_the_limit() -> None:
    raw = b"data: " + b"y" * 100_000 + b"\n\n"
    assert decode_all([raw], max_event_bytes=None)[0].data == "y" * 100_000


def test_cap_applies_to_a_single_huge_chunk() -> None:
    with pytest.raises(EventTooLargeError):
        decode_all([b"data: " + b"y" * 5000 + b"\n\n"], max_event_bytes=4096)


# -- recorded real streams ----------------------------------------------------------------------


def _recorded(shared_dir: Path) -> list[tuple[bytes, list[ServerSentEvent]]]:
    out = []
    for path in sorted((shared_dir / "recorded-streams").glob("*.sse")):
        expected = json.loads(path.with_suffix(".expected.json").read_text())["expected"]
        events = [E(e["event"], e["data"], e["id"], e["retry"]) for e in expected]
        out.append((path.read_bytes(), events))
    assert len(out) >= 6
    return out


def test_recorded_streams_decode_as_expected(shared_dir: Path) -> None:
    for raw, expected in _recorded(shared_dir):
        assert decode(raw) == expected
        step = 7
        assert decode_all(raw[i : i + step] for i in range(0, len(raw), step)) == expected


def test_recorded_streams_with_crlf_and_cr(shared_dir: Path) -> None:
    for raw, expected in _recorded(shared_dir):
        for ending in (b"\r\n", b"\r"):
            converted = raw.replace(b"\n", ending)
            chunks = [converted[i : i + 61] for i in range(0, len(converted), 61)]
            assert decode_all(chunks) == expected


# -- one block per chunk (the decoder's fast path) ----------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b"event: a\ndata: x\n\n"], [E("a", "x")]),
        ([b"event: \ndata: x\n\n"], [E("message", "x")]),
        ([b"event: a\ndata: \n\n"], [E("a", "")]),
        ([b"event:  a\ndata:  x\n\n"], [E(" a", " x")]),
        ([b"event: a\ndata: x\ndata: y\n\n"], [E("a", "x\ny")]),
        ([b"event: a\rdata: x\n\n"], [E("a", "x")]),  # the CR is a line end
        ([b"event: a\ndata: x\r\n\n"], [E("a", "x")]),
        ([b"event: a\ndata: x\n\r"], [E("a", "x")]),
        ([b"event: a\ndata: x\n\n\n"], [E("a", "x")]),
        ([b"event: a\ndata: x\nd", b"ata: y\n\n"], [E("a", "x\ny")]),
        ([b"event: a\nretry: 123\n\n", b"event: b\nid: 12345\n\n"], []),
        ([b"event: a\ndata: x\n\nevent: b\ndata: y\n\n"], [E("a", "x"), E("b", "y")]),
        ([b"id: 5\n", b"event: a\ndata: x\n\n"], [E("a", "x", "5")]),
        ([b"event: z\n", b"event: a\ndata: x\n\n"], [E("a", "x")]),
        ([b"data: p\n", b"event: a\ndata: x\n\n"], [E("a", "p\nx")]),
        ([b"data: p\r", b"event: a\ndata: x\n\n"], [E("a", "p\nx")]),
        ([b"data: p\r", b"\nevent: a\ndata: x\n\n"], [E("a", "p\nx")]),
        (
            [b"\xef\xbb\xbf", b"event: a\ndata: x\n\n", b"event: b\ndata: \xc3\xa9\n\n"],
            [
                E("a", "x"),
                E("b", "é"),
            ],
        ),
    ],
)
def test_one_block_per_chunk(chunks: list[bytes], expected: list[ServerSentEvent]) -> None:
    # A leading comment chunk gets the decoder past its start-of-stream (BOM) state.
    if not chunks[0].startswith(b"\xef"):
        assert decode_all([b":\n", *chunks]) == expected
    assert decode_all(chunks) == expected
    assert decode(b"".join(chunks)) == expected


def test_one_block_per_chunk_rejects_invalid_utf8() -> None:
    decoder = SSEDecoder()
    decoder.decode(b": hi\n")
    with pytest.raises(StreamDecodeError) as info:
        decoder.decode(b"event: thread.message.delta\ndata: \xff\n\n")
    assert info.value.event == "thread.message.delta"


def test_one_block_per_chunk_respects_the_cap() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    decoder.decode(b": hi\n")
    assert decoder.decode(b"event: a\ndata: " + b"x" * 90 + b"\n\n") == [E("a", "x" * 90)]
    with pytest.raises(EventTooLargeError):
        decoder.decode(b"event: a\ndata: " + b"x" * 100 + b"\n\n")
