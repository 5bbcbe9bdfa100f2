"""bench.real_lines on 20 real handwritten lines: every stage scored, sane metrics, the product path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.real_lines import (
    DECODERS,
    DEFAULT_LABELS,
    PEERS,
    STAGES,
    BenchSet,
    Readers,
    StageScore,
    benchmark,
    decode_field,
    decode_free_text,
    main,
    markdown_table,
    read_as_ingest,
    real_samples,
)
from ocr.recognition import propose_cells

N_LINES = 20
EQUIVALENCE_LINES = 8  # each line read twice more: the network pass is the slow part

pytestmark = pytest.mark.skipif(
    not (DEFAULT_LABELS / "labels.tsv").exists(),
    reason=f"real handwritten lines absent ({DEFAULT_LABELS}: see ../shared/real_lines/README.md)",
)


@pytest.fixture(scope="module")
def samples():
    return real_samples(DEFAULT_LABELS, "place", N_LINES)


@pytest.fixture(scope="module")
def readers():
    return Readers.load(STAGES)


@pytest.fixture(scope="module")
def scores(samples, readers) -> list[StageScore]:
    return benchmark([BenchSet("real", samples)], STAGES, readers)["real"]


def test_every_stage_is_scored_or_skipped_with_a_reason(scores, readers):
    assert [s.stage for s in scores] == [s for s in STAGES if s not in readers.skipped]
    assert set(readers.skipped) <= set(PEERS)  # only an optional peer may be missing
    assert all(readers.skipped.values())
    table = markdown_table(scores)
    for stage in (s.stage for s in scores):
        assert f"| {stage} | {N_LINES} |" in table


def test_metrics_are_sane_and_counts_add_up(scores, samples):
    truth_chars = sum(len(s.expected) for s in samples)
    for s in scores:
        q = s.quality
        assert s.lines == N_LINES and s.truth_chars == truth_chars
        assert s.cer == pytest.approx(s.edits / truth_chars, abs=1e-4)
        if s.stage in DECODERS:  # a peer's garbage may be longer than the truth (CER > 1)
            assert 0.0 <= s.cer <= 1.0
        assert 0.0 <= s.exact <= 1.0 and 0.0 <= q.high_band_share <= 1.0 and 0.0 <= q.ece <= 1.0
        high = round(q.high_band_share * N_LINES)
        assert sum(int(row["n"]) for row in q.reliability) == N_LINES
        if high:
            assert q.high_band_precision is not None
            assert q.high_band_wrong == high - round(q.high_band_precision * high)
        else:
            assert q.high_band_precision is None and q.high_band_wrong == 0
        assert s.s_per_line > 0 and s.decode_s_per_line <= s.s_per_line


def test_asternet_stages_read_the_same_lines(scores):
    """greedy and greedy_cal are one reading with two confidences; the real lines are not read
    perfectly by the shipped model (if they were, the benchmark would be measuring nothing)."""
    by_stage = {s.stage: s for s in scores}
    assert by_stage["greedy"].edits == by_stage["greedy_cal"].edits
    assert by_stage["greedy"].cer > 0.02


def test_decoder_stages_are_what_ingest_proposes_with_one_reader(samples, readers):
    """The 'field' and 'free_text' rows are ingest's proposals of the cells as place or free text
    without the second reader's checks (the same lines in one recognizer call, as the benchmark
    batches them); the 'ingest' row is ingest's proposals with them, which read some places otherwise."""
    lines = samples[:EQUIVALENCE_LINES]
    evidence = [[e] for e in readers.recognizer.line_log_probs([s.cell.lines[0] for s in lines])]
    for decoder, field_type in [(decode_field, "place"), (decode_free_text, "free_text")]:
        proposals = propose_cells([(s.cell, field_type) for s in lines], readers.recognizer, readers.calibrator,
                                  second_reader=False)
        readings = decoder(evidence, ["place"] * len(lines), readers.calibrator)
        assert readings == [(p.value, p.confidence) for p in proposals], field_type
    one_reader = decode_field(evidence, ["place"] * len(lines), readers.calibrator)
    both = read_as_ingest(readers.recognizer, [s.cell for s in lines], ["place"] * len(lines), readers.calibrator)
    changed = [(a, b) for a, b in zip(one_reader, both, strict=True) if a != b]
    # Of these lines the second reader reads "Quận Bảh thạnh" as "Quận Bình Thạnh" (among others); a
    # re-read place is never surer than its first reading (ocr.recognition._place_checked).
    assert changed and all(b[1] <= a[1] for a, b in changed)


def test_command_writes_json(tmp_path: Path, capsys):
    out = tmp_path / "scores.json"
    main(["--limit", "3", "--rendered-pages", "0", "--stages", "greedy,field", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "| greedy | 3 |" in printed and "| field | 3 |" in printed
    payload = json.loads(out.read_text(encoding="utf-8"))
    (rows,) = payload["sets"].values()
    assert [r["stage"] for r in rows] == ["greedy", "field"] and rows[0]["lines"] == 3
