"""Speed work changes no result: the same decisions, records and redacted copies as before it.

Issue 14 moves the redaction of a Terraform plan onto the tree the collector already parsed,
evaluates each rule once, hands the engine its input without a JSON round trip and caches fixed
costs. None of that may change a byte anyone can see. ``tests/same_results.json`` was written by
this module from the code as it stood *before* the first of those changes (commit 956f80b); each
entry is a sha256:

- ``gate/<demo>``: the gate on a demo release (``results.json`` with the wall-clock time left out,
  every evidence record, every raw copy as the bundle stores it after redaction);
- ``corpus/<folder>``: every file of a corpus folder collected as the gate collects a folder
  (records, redacted raw copies, the files refused with their diagnostics, the files not read);
- ``generated/<file>``: a small deterministic input of ``../shared/bench/gen_evidence.py`` (the
  benchmark's generator: a plan with sensitive marks, an SBOM, a Trivy report), collected and
  redacted.

The digests change only on purpose: regenerate them with ``AFFIDAVIT_UPDATE_SAME_RESULTS=1`` after
a change that is meant to change results, and say so in its commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from affidavit.bundle.redact import redacted_copy
from affidavit.bundle.write import write_bundle
from affidavit.collectors import CollectOptions, collect_paths
from affidavit.collectors.formats.terraform_plan import redact_plan
from affidavit.collectors.kinds.secrets import mask_tree
from affidavit.collectors.kinds.terraform import (
    SENSITIVE,
    mask_marked,
    redact_plan_value,
    scrub_secrets,
)
from affidavit.collectors.kinds.vulnerability import newer_fixes
from affidavit.errors import BundleError, PolicyError
from affidavit.pipeline import GateRequest, run_gate
from affidavit.policy.analysis import analyse, analyse_cached
from affidavit.policy.engines.regorus import RegorusEngine, RegorusSession
from affidavit.policy.interface import PolicyModule, epoch_ns
from affidavit.policy.loader import TEST_SUFFIX, read_modules
from affidavit.render.json import canonical_json
from tests.bundle.support import run_judging
from tests.collectors.test_version_order import univers_newer
from tests.conftest import CORPUS, NOW, REPO, SHARED

DIGESTS = Path(__file__).resolve().parent / "same_results.json"
UPDATE = os.environ.get("AFFIDAVIT_UPDATE_SAME_RESULTS") == "1"
DEMO = REPO / "evidence" / "demo"
GENERATOR = SHARED / "bench" / "gen_evidence.py"
CORPUS_FOLDERS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


def _sha(data: bytes | str) -> str:
    """sha256 hex of ``data`` (text as UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _collected(
    source_of: dict[str, Path], evidence: list[Any], made: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Digests of records and redacted raw copies, keyed by the record's source (``made``: the
    copies the gate's collectors made, as the bundle writer is given them)."""
    out: dict[str, Any] = {}
    for record in sorted(evidence, key=lambda e: (e.source, e.id)):
        path = source_of.get(record.id)
        stored = "-"
        if path is not None:
            data, _ = redacted_copy(record, path.read_bytes(), (made or {}).get(record.id))
            stored = _sha(data)
        out[f"{record.source}#{record.id[7:19]}"] = {
            "record": _sha(canonical_json(record.to_json())),
            "stored": stored,
        }
    return out


def _gate_digests(release: str) -> dict[str, Any]:
    """What the gate decides on ``evidence/demo/<release>`` and what its bundle would hold."""
    demo = DEMO.relative_to(REPO)  # every path relative: the records and results name them
    request = GateRequest(
        evidence_paths=(demo / release,),
        environment="prod",
        subject_name="ghcr.io/acme/shop",
        subject_digest=(DEMO / "SUBJECT_DIGEST").read_text().strip(),
        now=datetime.fromisoformat(NOW.replace("Z", "+00:00")),
        replay=True,
        commit=(DEMO / "COMMIT").read_text().strip(),
        param_files=(demo / "params.yaml",),
        public_key=demo / "cosign.pub",
    )
    with contextlib.chdir(REPO):  # sources named as a user in the checkout names them
        judged = run_gate(request)
        evidence = _collected(judged.sources, judged.evidence, judged.stored)
    results = judged.run.to_json()
    results.pop("wall_time", None)
    return {
        "decision": judged.run.decision.value,
        "results": _sha(canonical_json(results)),
        "evidence": evidence,
    }


def _folder_digests(folder: Path) -> dict[str, Any]:
    """What collecting ``folder`` as the gate does gives: records, copies, refusals, files left out."""
    with contextlib.chdir(folder.parent):  # sources named <folder>/<file>, wherever it is
        collection = collect_paths((Path(folder.name),), CollectOptions(now=NOW))
        evidence = _collected(collection.documents, list(collection.evidence))
    return {
        "evidence": evidence,
        "errors": sorted(f"{e.source}: {_sha(e.diagnostics())}" for e in collection.errors),
        "not_read": sorted(f"{s.path}: {s.action.value}" for s in collection.skipped),
    }


def _generated(tmp: Path) -> dict[str, Any]:
    """Digests of a small input of the benchmark's generator (deterministic for its seed)."""
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--out",
            str(tmp / "bench"),
            "--resources",
            "400",
            "--components",
            "300",
        ]
        + ["--vulns", "200"],
        check=True,
        capture_output=True,
    )
    return _folder_digests(tmp / "bench")


def _current(tmp: Path) -> dict[str, Any]:
    """Every digest this module checks, from the code as it is now."""
    current: dict[str, Any] = {f"gate/{r}": _gate_digests(r) for r in ("go", "no-go")}
    for name in CORPUS_FOLDERS:
        current[f"corpus/{name}"] = _folder_digests(CORPUS / name)
    current["generated/bench"] = _generated(tmp)
    return current


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The digests of this run (written to ``same_results.json`` first under the update switch)."""
    found = _current(tmp_path_factory.mktemp("generated"))
    if UPDATE:
        DIGESTS.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return found


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    """The digests recorded before the speed work (``same_results.json``)."""
    assert DIGESTS.is_file(), f"{DIGESTS} is missing: write it with AFFIDAVIT_UPDATE_SAME_RESULTS=1"
    value: dict[str, Any] = json.loads(DIGESTS.read_text(encoding="utf-8"))
    return value


def test_the_recorded_cases_are_the_cases_run(current: dict[str, Any], recorded: dict[str, Any]) -> None:
    """A case added or lost (a corpus folder, a demo release) is a difference too."""
    assert sorted(current) == sorted(recorded)


@pytest.mark.parametrize("release", ["go", "no-go"])
def test_the_gate_decides_the_demo_as_before(
    release: str, current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """Decision, results.json (all but the wall-clock time), records and stored copies are as before."""
    now, then = current[f"gate/{release}"], recorded[f"gate/{release}"]
    assert now["decision"] == then["decision"]
    assert now["evidence"] == then["evidence"]
    assert now["results"] == then["results"]


@pytest.mark.parametrize("folder", CORPUS_FOLDERS)
def test_the_corpus_is_collected_as_before(
    folder: str, current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """Each corpus folder gives the same records, stored copies, refusals and files left out."""
    now, then = current[f"corpus/{folder}"], recorded[f"corpus/{folder}"]
    for part in ("evidence", "errors", "not_read"):
        assert now[part] == then[part], part


def test_generated_inputs_are_collected_and_redacted_as_before(
    current: dict[str, Any], recorded: dict[str, Any]
) -> None:
    """The benchmark's plan (sensitive marks, values equal to masked ones), SBOM and Trivy report."""
    assert current["generated/bench"] == recorded["generated/bench"]


# ---------------------------------------------------------------------------------------------
# The plan's redaction in one walk equals the plain composition of its steps, on hostile plans


def _marks_reference(plan: dict[str, Any], original: dict[str, Any]) -> Any:
    """The plan redacted by the plain steps, as they stood before issue 14: marks, then a second
    untouched parse to find each masked plaintext, then every equal string, ``scrub_secrets``,
    ``mask_tree``. Written here independently of ``redact_plan_value``'s one walk."""
    masked: list[list[Any]] = []

    def change_sides(change: dict[str, Any]) -> None:
        for side in ("before", "after"):
            if side in change:
                change[side] = mask_marked(change[side], change.get(f"{side}_sensitive"), [], masked)

    for rc in plan.get("resource_changes") or []:
        change_sides(rc["change"])
    for change in (plan.get("output_changes") or {}).values():
        change_sides(change)
    for section in ("planned_values", "prior_state"):
        state = plan.get(section) or {}
        values = state.get("values", state)
        for resource in (values.get("root_module") or {}).get("resources") or []:
            resource["values"] = mask_marked(resource["values"], resource.get("sensitive_values"), [], masked)
        for output in (values.get("outputs") or {}).values():
            if output.get("sensitive"):
                output["value"] = SENSITIVE
    declared = plan["configuration"]["root_module"]["variables"]
    for name, variable in plan.get("variables", {}).items():
        if declared.get(name, {}).get("sensitive"):
            variable["value"] = SENSITIVE

    def plaintext(old: Any, new: Any, out: set[str]) -> None:
        if new == SENSITIVE and old != SENSITIVE:
            out.update(s for s in _strings(old) if len(s) >= 3)
        elif isinstance(new, dict) and isinstance(old, dict):
            for key in new.keys() & old.keys():
                plaintext(old[key], new[key], out)
        elif isinstance(new, list) and isinstance(old, list):
            for a, b in zip(old, new, strict=False):
                plaintext(a, b, out)

    def equal(value: Any, secrets: set[str]) -> Any:
        if isinstance(value, str):
            return SENSITIVE if value in secrets else value
        if isinstance(value, dict):
            return {k: equal(v, secrets) for k, v in value.items()}
        if isinstance(value, list):
            return [equal(v, secrets) for v in value]
        return value

    secrets: set[str] = set()
    plaintext(original, plan, secrets)
    return mask_tree(scrub_secrets(equal(plan, secrets) if secrets else plan, [], masked))


def _strings(value: Any) -> list[str]:
    """Every string inside ``value``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _plan(after: dict[str, Any], marks: dict[str, Any]) -> dict[str, Any]:
    """A plan with one resource change whose ``after`` is ``after`` (marked by ``marks``), a
    sensitive input variable, a sensitive output and a configuration constant."""
    return {
        "format_version": "1.2",
        "variables": {"db_password": {"value": "correct-horse-battery"}, "region": {"value": "eu-west-1"}},
        "resource_changes": [
            {
                "address": "aws_db_instance.main",
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "main",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": after,
                    "after_unknown": {},
                    "before_sensitive": False,
                    "after_sensitive": marks,
                },
            }
        ],
        "planned_values": {
            "outputs": {"dsn": {"sensitive": True, "value": "postgres://app@db/shop"}},
            "root_module": {
                "resources": [{"address": "aws_db_instance.main", "values": after, "sensitive_values": marks}]
            },
        },
        "configuration": {
            "root_module": {
                "variables": {"db_password": {"sensitive": True}, "region": {}},
                "resources": [{"expressions": {"note": {"constant_value": "correct-horse-battery"}}}],
            }
        },
    }


HOSTILE_PLANS = {
    # names only (the one-walk path): a mixed list and a nested list under secret names, a
    # literal under a secret name, a setting word under one, a value equal to a masked one
    "names": _plan(
        {
            "password": "correct-horse-battery",
            "passwords": ["hunter2hunter2", 5],
            "api_keys": [["nested-literal-key"]],
            "client_secret": "s3cr3t-literal",
            "http_tokens": "required",
            "master_password": "required",
            "tags": {"copy": "correct-horse-battery", "blank": " "},
        },
        {"password": True},
    ),
    # credential shapes (the plain path): in a value, in a key, in an expression, in a list,
    # behind a JSON escape, and a URL password
    "shapes": _plan(
        {
            "user_data": "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "labels": {"AKIAIOSFODNN7EXAMPLE": "a key as a key"},
            "expr": "${AKIAIOSFODNN7EXAMPLE}",
            "list": ["ghp_0123456789abcdefghijABCDEFGHIJ012345", "plain"],
            "escaped": "\u0041KIAIOSFODNN7EXAMPL2",
            "url": "https://user:pa55word@example.com/x",
            "password": "correct-horse-battery",
        },
        {"password": True},
    ),
    # lists under secret names: a literal of a masked list appears again elsewhere (masked only
    # there, by scrub_secrets, never everywhere by mask_tree), a nested list whose secret name
    # appears nowhere else, a list of lists under a name that is not secret
    "lists": _plan(
        {
            "db_passwords": ["abcd1234"],
            "comment": "abcd1234",
            "zz": {"deep_tokens": [["only-here-literal"], 7]},
            "matrix": [["plain-value"]],
        },
        {},
    ),
    # nothing to mask beyond the marks
    "plain": _plan(
        {"password": "correct-horse-battery", "engine": "postgres", "port": 5432}, {"password": True}
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PLANS))
def test_the_one_walk_redaction_equals_the_plain_steps(name: str) -> None:
    """Issue 14: ``redact_plan_value`` masks by marks, equal strings, names and looks in one walk
    of the one parse; the bytes equal the plain steps on a second parse (``_marks_reference``).
    Shapes follow Terraform's plan JSON (``after_sensitive`` mirrors ``after``;
    https://developer.hashicorp.com/terraform/internals/json-format#change-representation)."""
    text = json.dumps(HOSTILE_PLANS[name])
    expected = json.dumps(
        _marks_reference(json.loads(text), json.loads(text)), separators=(",", ":"), sort_keys=True
    )
    got = redact_plan_value(json.loads(text)).decode()
    assert got == expected + "\n"
    for secret in (
        "correct-horse-battery",
        "hunter2hunter2",
        "nested-literal-key",
        "only-here-literal",
        "AKIAIOSFODNN7EXAMPLE",
        "pa55word",
        "s3cr3t-literal",
    ):
        assert secret not in got


def test_a_copy_made_during_collection_serves_only_its_own_bytes(tmp_path: Path) -> None:
    """The gate's copy is made from the collector's parse and travels with the run by record id
    (``Collection.stored`` -> ``GateRun.stored`` -> ``write_bundle``), never through a global: it
    equals the copy made from the bytes alone, a collection without ``stored_copies`` makes none,
    and a file swapped after collection (same length, other bytes) is refused by the writer rather
    than given the copy of the bytes that were judged."""
    raw = json.dumps(HOSTILE_PLANS["shapes"]).encode()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "plan.json").write_bytes(raw)
    plain = collect_paths((folder,), CollectOptions(now=NOW))
    assert plain.stored == {}
    collection = collect_paths((folder,), CollectOptions(now=NOW, stored_copies=True))
    (record,) = collection.evidence
    assert list(collection.stored) == [record.id] == ["sha256:" + _sha(raw)]
    made = collection.stored[record.id]
    assert made == redact_plan(raw)  # equals the copy made from the bytes alone
    assert b"AKIAIOSFODNN7EXAMPLE" not in made
    other = raw.replace(b"eu-west-1", b"eu-west-2")
    assert len(other) == len(raw)
    assert b"eu-west-2" in redact_plan(other)  # other bytes are redacted afresh
    run = run_judging(record)
    written = write_bundle(run, [record], collection.documents, tmp_path / "a", stored=collection.stored)
    alone = write_bundle(run, [record], collection.documents, tmp_path / "b")
    assert written.manifest == alone.manifest  # the same bytes with and without the copy
    (folder / "plan.json").write_bytes(other)
    with pytest.raises(BundleError, match="changed while affidavit was running"):
        write_bundle(run, [record], collection.documents, tmp_path / "c", stored=collection.stored)


def test_records_are_stored_compact_and_read_back_as_the_record(tmp_path: Path) -> None:
    """Issue 14: a bundle's evidence records are written by the C encoder without indentation
    (sorted keys, UTF-8, final newline); they read back as exactly the record. Hostile text: a
    tag value with a line separator, a NUL, quotes, a backslash, an HTML end tag and non-ASCII
    letters (JSON escapes the controls and quotes, keeps the rest as UTF-8: RFC 8259 section 7)."""
    plan = json.loads(json.dumps(HOSTILE_PLANS["plain"]))
    odd = 'a\u2028b\x00"q"\\ </script> Zürich 東京'
    plan["resource_changes"][0]["change"]["after"]["tags"] = {"note": odd}
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    collection = collect_paths((folder,), CollectOptions(now=NOW, stored_copies=True))
    (record,) = collection.evidence
    bundle = write_bundle(run_judging(record), [record], collection.documents, tmp_path / "out")
    stored = (bundle.path / f"evidence/{record.id[7:19]}.record.json").read_bytes()
    compact = json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert stored == (compact + "\n").encode()
    assert stored.count(b"\n") == 1 and b"\x00" not in stored and b"\\u0000" in stored
    assert json.loads(stored) == json.loads(canonical_json(record.to_json()))
    assert json.loads(stored)["data"]["resource_changes"][0]["after"]["tags"]["note"] == odd
    assert "Zürich 東京".encode() in stored  # UTF-8 as it is, not \\u escapes


def _univers_newer(installed: str, fixed: list[str]) -> list[str] | None:
    """``newer_fixes`` for PyPI as it was before issue 14: every version through univers."""
    return univers_newer("pypi", installed, fixed)


PYPI_VERSIONS = [
    "2.2.3", "2.2.4", "2.2.3.0", "2.2", "2.2.0.0.0", "0", "00", "0.0", "1.0", "1", "01.2", "1.02",
    " 2.2.4 ", "v2.2.4", "V2.2.4", "2.2.4rc1", "2.2.4.post1", "2.2.4.dev0", "1!1.0", "2.2.4+local",
    "2.2 .4", "1..2", ".1", "1.", "", " ", "\u0661.\u0662", "１.２", "9" * 18, "9" * 19, "1." * 15 + "1",
    "1." * 16 + "1", "1" * 130, "2.2.3-1", "latest", "*",
]  # fmt: skip


def test_plain_pypi_releases_are_ordered_as_univers_orders_them() -> None:
    """Issue 14: PyPI versions that are plain release numbers are compared without univers; every
    pair of these (plain, nearly plain and not versions at all: leading zeros, trailing zeros,
    spaces, a ``v``, pre/post/dev/local parts, an epoch, non-ASCII digits, over-long text) gives
    what univers gives (PEP 440 release ordering: https://peps.python.org/pep-0440/#final-releases,
    trailing zeros ignored in comparisons)."""
    for installed in PYPI_VERSIONS:
        for fixed in PYPI_VERSIONS:
            assert newer_fixes("pypi", installed, [fixed]) == _univers_newer(installed, [fixed]), (
                installed,
                fixed,
            )
        assert newer_fixes("pypi", installed, PYPI_VERSIONS) == _univers_newer(installed, PYPI_VERSIONS)
        plain = [v for v in PYPI_VERSIONS if re.fullmatch(r"[0-9]{1,18}(\.[0-9]{1,18}){0,15}", v.strip())]
        assert newer_fixes("pypi", installed, plain) == _univers_newer(installed, plain), installed


def test_the_demo_collects_without_importing_univers() -> None:
    """The demo's one comparison (urllib3 2.2.3, fixed in 2.2.4) needs no univers import; a Debian
    comparison imports univers' Debian order only, never all of univers (a fresh process each, so
    nothing was imported before)."""
    code = (
        "import sys, json\n"
        "from affidavit.collectors import CollectOptions, collect_paths\n"
        "from affidavit.collectors.kinds.vulnerability import newer_fixes\n"
        "c = collect_paths([__import__('pathlib').Path(sys.argv[1])], CollectOptions(now=sys.argv[2]))\n"
        "assert not c.errors, c.errors\n"
        "before = any(m.startswith('univers') for m in sys.modules)\n"
        "deb = newer_fixes('deb', '2.36-9+deb12u9', ['2.36-9+deb12u10'])\n"
        "print(json.dumps([before, 'univers.debian' in sys.modules and 'univers.versions' not in sys.modules, deb]))\n"
    )
    for release in ("go", "no-go"):
        done = subprocess.run(
            [sys.executable, "-c", code, str(DEMO / release), NOW], capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout) == [False, True, ["2.36-9+deb12u10"]]


# ---------------------------------------------------------------------------------------------
# A rule's sets asked for in one query give what each set asked for alone gives


ENGINE_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
RULES = """package affidavit.rules.t.{name}

deny contains m if {{
    some r in input.evidence.items
    r.bad
    m := {{"msg": sprintf("bad %v", [r.id])}}
}}

missing contains {{"msg": "none"}} if count(input.evidence.items) == 0

{extra}
"""


def _per_set(modules: list[PolicyModule], text: str, paths: list[str]) -> dict[str, Any]:
    """The plain way: every path asked for alone, in a fresh session."""
    session = RegorusEngine().session(modules, now_ns=epoch_ns(ENGINE_NOW), input_json=text)
    return {path: session.eval_rule(path) for path in paths}


@pytest.mark.parametrize(
    ("extra", "sets"),
    [
        ("", ("deny", "missing")),
        # warn raises (a failing built-in aborts a whole regorus query): the error stays on warn
        ('warn contains m if { m := {"msg": to_number("x")} }', ("deny", "warn", "missing")),
        # warn panics inside the engine
        (
            'warn contains m if { m := {"msg": sprintf("%d", [strings.count("abc", "")])} }',
            ("deny", "warn", "missing"),
        ),
        # a set the package does not define is undefined, not empty
        ("", ("deny", "warn", "missing")),
        # a set name that is not a plain name is asked for alone
        ("", ("deny", "missing", 'missing["x"]')),
    ],
)
def test_one_query_per_rule_gives_each_set_what_it_gives_alone(extra: str, sets: tuple[str, ...]) -> None:
    """Issue 14: ``RegorusEngine.evaluate`` asks for a rule's sets in one query; on an error, a
    panic or an undefined set it falls back to one evaluation per set, so every path's value,
    undefinedness and error message equal the plain way's (regorus raises for a failing built-in
    instead of making it undefined as OPA does: ../shared/notes/rego-engines.md)."""
    modules = [
        PolicyModule.from_text(f"t{i}.rego", RULES.format(name=f"r{i}", extra=extra)) for i in range(2)
    ]
    paths = [f"data.affidavit.rules.t.r{i}.{s}" for i in range(2) for s in sets]
    text = json.dumps({"evidence": {"items": [{"id": 1, "bad": True}, {"id": 2, "bad": False}]}})
    joint = RegorusEngine().evaluate(modules, text, paths, now=ENGINE_NOW)
    assert list(joint) == paths
    assert joint == _per_set(modules, text, paths)
    assert joint[paths[0]].value == [{"msg": "bad 1"}]
    if "to_number" in extra or "strings.count" in extra:
        assert joint[paths[1]].error is not None
        assert joint[paths[0]].error is None


def test_a_rule_whose_sets_all_answer_is_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one query is really used: no set is asked for alone when every set has a value."""
    alone: list[str] = []
    plain = RegorusSession.eval_rule
    monkeypatch.setattr(
        RegorusSession, "eval_rule", lambda self, path: (alone.append(path), plain(self, path))[1]
    )
    modules = [PolicyModule.from_text("t.rego", RULES.format(name="r0", extra=""))]
    paths = ["data.affidavit.rules.t.r0.deny", "data.affidavit.rules.t.r0.missing"]
    joint = RegorusEngine().evaluate(modules, json.dumps({"evidence": {"items": []}}), paths, now=ENGINE_NOW)
    assert (joint[paths[0]].value, joint[paths[1]].value) == ([], [{"msg": "none"}])
    assert alone == []


# ---------------------------------------------------------------------------------------------
# The policy analysis read from the user cache is the analysis


def _builtin_modules() -> list[PolicyModule]:
    """The built-in library's rule and library modules (what a gate analyses)."""
    return [m for m in read_modules() if not m.path.endswith(TEST_SUFFIX)]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``XDG_CACHE_HOME`` of this test's own; the cache on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("AFFIDAVIT_NO_CACHE", raising=False)
    return tmp_path / "cache"


def _entries(home: Path) -> list[Path]:
    return sorted((home / "affidavit").glob("policy-analysis-*.json"))


def test_a_corrupt_or_foreign_cache_entry_is_ignored_and_rebuilt(cache_home: Path) -> None:
    """Issue 14: fixed costs are cached by content hash and never change a result. Entries cut
    short, not JSON, of another format, naming another entry, or not rebuilding are ignored; the
    analysis is computed again, equals the uncached one and is written again."""
    modules = _builtin_modules()
    plain = analyse(modules)
    assert analyse_cached(modules) == plain
    (entry,) = _entries(cache_home)
    assert stat.S_IMODE((cache_home / "affidavit").stat().st_mode) == 0o700
    good = entry.read_bytes()
    document = json.loads(good)
    broken_rules = {**document, "value": {**document["value"], "rules": [{"id": "x"}]}}
    for bad in (
        good[: len(good) // 2],
        b"\x00\xff not json",
        json.dumps({**document, "format": "other/v9"}).encode(),
        json.dumps({**document, "name": "policy-analysis-0.json"}).encode(),
        json.dumps(broken_rules).encode(),
    ):
        entry.write_bytes(bad)
        assert analyse_cached(modules) == plain
        assert entry.read_bytes() == good


def test_the_cache_is_not_used_in_a_folder_others_can_write_or_through_a_link(
    cache_home: Path, tmp_path: Path
) -> None:
    """A cache folder that others can write to, or a link in its place, is never read: a planted
    entry cannot lend a rule another title."""
    modules = _builtin_modules()
    plain = analyse(modules)
    assert analyse_cached(modules) == plain
    (entry,) = _entries(cache_home)
    document = json.loads(entry.read_text())
    document["value"]["rules"][0]["title"] = "planted"
    entry.write_text(json.dumps(document))
    folder = cache_home / "affidavit"
    folder.chmod(0o777)
    assert analyse_cached(modules) == plain
    folder.chmod(0o700)
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere)
    assert analyse_cached(modules) == plain


def test_a_failing_analysis_is_never_stored(cache_home: Path) -> None:
    """A module with a syntax error fails every time, and nothing is written for it."""
    bad = [
        *_builtin_modules(),
        PolicyModule.from_text("org/bad.rego", "package affidavit.org.bad\n\ndeny contains"),
    ]
    for _ in range(2):
        with pytest.raises(PolicyError):
            analyse_cached(bad)
    assert _entries(cache_home) == []


def test_every_plan_copy_made_during_collection_is_the_copy_made_from_the_bytes_alone(
    tmp_path: Path,
) -> None:
    """Issue 14: the collector's copy skips the search for floats written otherwise when its parse
    met none (``Artefact.json_floats``); on every plan of the corpus, and on plans with floats in
    each form ``orjson`` writes otherwise than ``json.dumps`` (exponents, below 1e-4), the copy is
    byte for byte the one ``redact_plan`` makes from the bytes alone (which never skips it)."""
    from affidavit.artefact import Artefact

    plans = sorted((CORPUS / "terraform-plan").glob("*.json"))
    floaty = dict(HOSTILE_PLANS["shapes"], floats=[1e-07, 1e22, 0.00001, 2.5, 1e16])
    extra = tmp_path / "floats.json"
    extra.write_text(json.dumps(floaty))
    compared = 0
    for path in [*plans, extra]:
        raw = path.read_bytes()
        collection = collect_paths((path,), CollectOptions(now=NOW, stored_copies=True))
        if not collection.evidence:
            continue  # a plan the corpus keeps to be refused
        (record,) = collection.evidence
        made = collection.stored[record.id]
        assert isinstance(made, bytes)
        assert made == redact_plan(raw, str(path)), path.name
        compared += 1
    assert compared >= 10
    doc = Artefact("floats.json", extra.read_bytes())
    doc.json()
    assert doc.json_floats is True
    whole = Artefact("ints.json", b'{"a": [1, -2, 30000000000], "b": "1.5e-7"}')
    whole.json()
    assert whole.json_floats is False
    repeated = Artefact("twice.json", b'{"a": 1.5, "a": 2}')
    with pytest.raises(Exception, match="same key twice"):
        repeated.json()
    assert repeated.json_floats is None
