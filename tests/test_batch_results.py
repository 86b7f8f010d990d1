"""The batch results file: append, resume, and repair of a torn last line (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistants_async.batch import BatchResult, BatchResultsFileError, ResultsFile


def result(item_id: str, status: str = "completed", output: str | None = "ok") -> BatchResult:
    return BatchResult(id=item_id, status=status, output=output, attempts=1)


def write(path: Path, *results: BatchResult) -> None:
    file = ResultsFile(path)
    for r in results:
        file.append(r)
    file.close()


def test_missing_file_is_an_empty_batch(tmp_path: Path) -> None:
    assert ResultsFile(tmp_path / "none.jsonl").load() == {}


def test_round_trip_and_the_latest_line_per_id_wins(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    first = result("a", "failed", None)
    write(path, first, result("b", output="line one\nline two \u2603"), result("a"))
    loaded = ResultsFile(path).load()
    assert set(loaded) == {"a", "b"}
    assert loaded["a"].status == "completed"
    assert loaded["b"].output == "line one\nline two \u2603"
    assert path.read_bytes().count(b"\n") == 3  # a newline in a value stays escaped


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write(path, result("a"))
    path.write_bytes(b"\n" + path.read_bytes() + b"\n\n")
    assert set(ResultsFile(path).load()) == {"a"}


def test_a_whole_last_line_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write(path, result("a"), result("b"))
    path.write_bytes(path.read_bytes()[:-1])
    assert set(ResultsFile(path).load()) == {"a", "b"}
    assert path.read_bytes().endswith(b"}\n")
    assert not (tmp_path / "r.jsonl.torn").exists()


@given(cut=st.integers(min_value=1, max_value=10_000))
def test_a_torn_last_line_is_cut_off_and_kept_aside(
    tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    tmp_path = tmp_path_factory.mktemp("torn")
    path = tmp_path / "r.jsonl"
    write(path, result("a"), result("b"))
    whole = path.read_bytes()
    line = result("c", output="x" * 50).model_dump_json().encode()
    torn = line[: 1 + cut % (len(line) - 1)]  # any strict prefix: a write cut short
    path.write_bytes(whole + torn)

    file = ResultsFile(path)
    assert set(file.load()) == {"a", "b"}
    assert path.read_bytes() == whole
    assert (tmp_path / "r.jsonl.torn").read_bytes() == torn + b"\n"
    file.append(result("c"))
    file.close()
    assert set(ResultsFile(path).load()) == {"a", "b", "c"}


def test_zero_padding_left_by_a_crash_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write(path, result("a"))
    whole = path.read_bytes()
    path.write_bytes(whole + b"\x00" * 64)
    assert set(ResultsFile(path).load()) == {"a"}
    assert path.read_bytes() == whole


@pytest.mark.parametrize(
    "bad", [b"not json", b'{"id": "x"}', b"\xff\xfe", b'{"status": "completed"}']
)
def test_a_damaged_line_before_the_end_is_an_error_and_the_file_is_untouched(
    tmp_path: Path, bad: bytes
) -> None:
    path = tmp_path / "r.jsonl"
    write(path, result("a"))
    data = path.read_bytes() + bad + b"\n" + result("b").model_dump_json().encode() + b"\n"
    path.write_bytes(data)
    with pytest.raises(BatchResultsFileError) as caught:
        ResultsFile(path).load()
    assert caught.value.line_number == 2
    assert isinstance(caught.value, ValueError)
    assert "line 2" in str(caught.value)
    assert path.read_bytes() == data


def test_a_complete_but_damaged_last_line_is_not_treated_as_torn(tmp_path: Path) -> None:
    # Only an unterminated line can come from a cut-short write; a terminated bad line means
    # the file is not ours, so nothing is cut.
    path = tmp_path / "r.jsonl"
    write(path, result("a"))
    data = path.read_bytes() + b"garbage\n"
    path.write_bytes(data)
    with pytest.raises(BatchResultsFileError):
        ResultsFile(path).load()
    assert path.read_bytes() == data


def test_append_creates_missing_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "r.jsonl"
    write(path, result("a"))
    assert set(ResultsFile(path).load()) == {"a"}
