"""The export's reading of each run's summary without decoding it whole (``source._Reader._fast``).

A summary is ``derive_summary``'s canonical JSON; the export cuts it around the run's own columns
(as canonical JSON writes them) and decodes only the parts runs share, once. That is sound only if
the cut pieces mean what decoding the whole summary says. The forger here owns the database and
rewrites a run's summary and chain hash consistently (so the chain hash holds): whatever bytes
they write, the fast reading either gives up (and the summary is decoded whole) or gives exactly
the run that decoding it whole gives.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.export.source import PeriodRun, _decode, _Reader
from affidavit.store.interface import ScannedRun, StoreError
from affidavit.store.record import canonical

if TYPE_CHECKING:
    from tests.export.conftest import Quarter

CATALOGUE = {
    "controls": {"soc2": [["CC8.1", "t", "automated", ["r1"]]] * 4, "ssdf": [["PO.1.1", "t", "manual", []]]},
    "files": {},
    "rules": ["r1"],
}
COLUMNS = {
    "run_id": "20260812T101500Z-4c18ff2d1c33",
    "time": "2026-08-12T10:15:00Z",
    "subject_name": 'ghcr.io/acme/shop","decision":"GO',  # a hostile name: escaped in the summary
    "subject_digest": "sha256:" + "ab" * 32,
    "environment": "prod",
    "decision": "NO-GO",
    "manifest_sha256": "cd" * 32,
    "commit": None,
}


def _summary(**change: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": "affidavit.run-summary/v1",
        "run_id": COLUMNS["run_id"],
        "time": COLUMNS["time"],
        "subject": {"name": COLUMNS["subject_name"], "digest": COLUMNS["subject_digest"]},
        "environment": COLUMNS["environment"],
        "decision": COLUMNS["decision"],
        "commit": COLUMNS["commit"],
        "manifest_sha256": COLUMNS["manifest_sha256"],
        "policy_sha256": "ef" * 32,
        "matrices": [{"framework": "soc2", "version": "2017", "sha256": "01" * 32, "label": "SOC 2"}],
        "catalogue_sha256": "99" * 32,
        "controls": {"soc2": "PPF-", "ssdf": "-"},
        "waived": [
            {
                "rule": "r1",
                "waiver": {"owner": "o", "reason": '"commit":null,"controls":{}'},
                "findings": [{"msg": "m", "evidence_ids": []}],
                "absent_evidence": False,
            }
        ],
    }
    doc.update(change)
    return doc


def _row(summary: bytes, **columns: Any) -> ScannedRun:
    values = {**COLUMNS, **columns}
    return ScannedRun(
        seq=7,
        run_id=values["run_id"],
        time=values["time"],
        environment=values["environment"],
        subject_name=values["subject_name"],
        subject_digest=values["subject_digest"],
        decision=values["decision"],
        manifest_sha256=values["manifest_sha256"],
        commit=values["commit"],
        prev_hash="0" * 64,
        hash="1" * 64,
        payload_sha256="2" * 64,
        summary=summary,
        payload=None,
    )


class _Store:
    """Holds no run: a catalogue digest other than the known one is refused, as the store's check
    of a forged one would refuse it."""

    def get(self, run_id: str) -> None:
        raise StoreError("no such catalogue here")


def _reader() -> _Reader:
    reader = _Reader(_Store())  # type: ignore[arg-type]
    reader._catalogues["99" * 32] = CATALOGUE
    return reader


def _slow(row: ScannedRun) -> PeriodRun | str:
    assert row.summary is not None
    try:
        return _reader()._decoded(row, "2" * 64, _decode(row, row.summary))
    except StoreError as exc:
        return exc.message


def _fast(row: ScannedRun) -> PeriodRun | str | None:
    try:
        return _reader()._fast(row)
    except StoreError as exc:
        return exc.message


def test_a_summary_as_the_gate_writes_it_is_read_without_decoding_it_whole_and_gives_the_same_run() -> None:
    row = _row(canonical(_summary()))
    fast = _reader()._fast(row)
    assert fast is not None and fast == _slow(row)
    assert isinstance(fast, PeriodRun)
    assert fast.controls == {"soc2": "PPF-", "ssdf": "-"} and fast.waived[0]["rule"] == "r1"
    assert fast.policy_key == canonical(_summary()["matrices"]) + b',"policy_sha256":"' + b"ef" * 32 + b'"'


@pytest.mark.parametrize(
    "column", ["decision", "subject_name", "time", "commit", "manifest_sha256", "run_id"]
)
def test_a_column_that_is_not_the_summarys_is_never_read_fast(column: str) -> None:
    """The cut looks for the run's own columns in the summary: a column changed in the table alone
    fails it, and the whole decoding refuses the run."""
    row = _row(canonical(_summary()), **{column: "2026-01-01T00:00:00Z-x"})
    assert _reader()._fast(row) is None
    refused = _slow(row)
    assert isinstance(refused, str) and "indexed columns do not match" in refused


def test_forged_summaries_are_read_fast_only_as_decoding_them_whole_reads_them() -> None:
    """Fuzz: pieces of a real summary (its own separators among them) spliced in, cut out or
    doubled at random places, and whitespace and duplicate keys added: every summary the fast
    reading accepts is decoded whole to the very same run."""
    base = canonical(_summary())
    pieces = [
        b',"commit":null,"controls":',
        b',"decision":"NO-GO","environment":"prod","manifest_sha256":"' + b"cd" * 32 + b'","matrices":',
        b',"policy_sha256":null',
        b',"waived":[]',
        b',"decision":"GO"',
        b',"controls":{"soc2":"PPPP","ssdf":"-"}',
        b" ",
        b'"',
        b"}",
        b"]",
        b",",
    ]
    rng = random.Random(20261203)
    accepted = differed = 0
    for _ in range(4000):
        data = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            action = rng.random()
            if action < 0.5:
                piece = rng.choice(pieces) if rng.random() < 0.6 else base[at : at + rng.randint(1, 80)]
                data[at:at] = piece
            elif action < 0.8:
                del data[at : at + rng.randint(1, 40)]
            else:
                end = min(len(data), at + rng.randint(1, 60))
                data[end:end] = data[at:end]
        row = _row(bytes(data))
        fast = _fast(row)
        if fast is None:
            continue
        accepted += 1
        slow = _slow(row)
        if bytes(data) != base:
            differed += 1
        assert slow == fast, (bytes(data), slow, fast)
    assert accepted > 0 and differed > 0  # the fuzz reached forged summaries the fast reading took


def test_every_run_a_gate_recorded_is_read_fast(quarter: Quarter) -> None:
    """The fast reading is the one the export uses: every run of real gates takes it, and gives the
    run that decoding its summary whole gives."""
    from affidavit.store import open_store as opened

    store = opened(quarter.url)
    try:
        rows = list(store.scan("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"))
        assert len(rows) == quarter.runs
        for row in rows:
            assert row.summary is not None and row.payload_sha256 is not None
            reader = _Reader(store)
            fast = reader._fast(row)
            assert fast is not None, json.loads(row.summary)["run_id"]
            assert fast == _Reader(store)._decoded(row, row.payload_sha256, _decode(row, row.summary))
    finally:
        store.close()


@pytest.mark.parametrize(
    "name",
    [None, "ghcr.io/acme/shop", 'a"b\\c', "tab\tnew\nline\x00\x1f\x7f", "é ✓ 𝄞 \u2028", ""],
)
def test_the_population_line_written_out_is_the_canonical_json_of_the_entry(name: str | None) -> None:
    """``population_line`` formats the line by hand: byte for byte ``canonical`` of the entry, for
    names with quotes, escapes, control characters and characters past ASCII; another type of
    value is left to ``canonical``."""
    from types import SimpleNamespace

    from affidavit.export.build import canonical as export_canonical
    from affidavit.export.build import population_entry, population_line

    run = SimpleNamespace(
        run_id="r-1", seq=12, time="2026-08-12T10:15:00Z", subject_name=name, subject_digest=None,
        environment="prod", decision="GO", manifest_sha256=None, payload_sha256="2" * 64, chain_hash="1" * 64,
    )  # fmt: skip
    for position in (0, 41, 10**12):
        line = population_line(run, position)  # type: ignore[arg-type]
        assert line == export_canonical(population_entry(run, position))  # type: ignore[arg-type]
    odd = SimpleNamespace(**{**vars(run), "seq": True, "decision": 5})
    assert population_line(odd, 1) == export_canonical(population_entry(odd, 1))  # type: ignore[arg-type]
