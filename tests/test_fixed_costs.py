"""Issue 14's fixed costs: what a gate reads from the user cache, or from a template compiled ahead,
is exactly what it computes afresh.

The user cache (``affidavit.cache``) keeps the control matrices' parsed YAML and what python-hcl2
makes of a ``.tf`` file (the record and the bundle's redacted copy). Each test here runs with a
cache folder of its own and compares three readings: with the cache off, with an empty cache (the
entry is written) and with the entry in place (the entry is read: the parser is made to fail to
prove it is not called). Entries that are cut short, not JSON, of another shape or naming another
entry are ignored and written again; a failure is never stored; a record in which the collector
would still mask a credential is never stored. The Markdown report's template compiled ahead
(``render/_report_compiled.py``) must be current and render what the template compiled now
renders.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2
import pytest
from click.testing import CliRunner

from affidavit import cache
from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.formats import terraform_config
from affidavit.collectors.interface import CollectOptions
from affidavit.controls import loader
from affidavit.errors import ControlMatrixError, InputError
from affidavit.model import Decision, Outcome, Run
from affidavit.render import markdown
from affidavit.resources import builtin_controls_dir
from tests.model.runs import sample_run
from tests.render.hostile import hostile_run
from tests.render.test_markdown_golden import _run as golden_run

REPO = Path(__file__).resolve().parents[1]
DEMO_TF = REPO / "evidence" / "demo" / "no-go" / "main.tf"
OPTIONS = CollectOptions(now="2026-11-20T12:00:00Z")

# A configuration with secrets: a password by its name, a key by its shape, a sensitive variable's
# default, and a heredoc holding a private key: the record masks them, the copy replaces them.
SECRETS_TF = """\
variable "db_password" {
  type      = string
  sensitive = true
  default   = "correct-horse-battery"
}

provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
}

resource "aws_db_instance" "db" {
  engine   = "postgres"
  password = "hunter2hunter2"
  tags     = { note = "key AKIAIOSFODNN7EXAMPLE used" }
}

resource "aws_instance" "web" {
  ami       = "ami-0123456789"
  user_data = <<EOF
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA0000000000000000000000000000000000000000000000
-----END RSA PRIVATE KEY-----
EOF
}
"""
# A token where no collector rule for .tf looks (a resource's name): only the collector's last
# mask (kinds.secrets.mask_parsed) finds it.
TOKEN_IN_NAME_TF = 'resource "aws_instance" "ghp_0123456789abcdefghijABCDEFGHIJ012345" {\n  ami = "x"\n}\n'
BROKEN_TF = 'resource "aws_instance" "web" {\n  ami = "x"\n'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own, the cache on; the folder's path is returned."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("AFFIDAVIT_NO_CACHE", raising=False)
    monkeypatch.delenv("AFFIDAVIT_SECRET_KEY", raising=False)
    return tmp_path / "cache" / "affidavit"


def _entries(folder: Path, kind: str) -> list[Path]:
    """The cache entries of ``kind`` (the name is ``<kind>-<sha256>.json``)."""
    return sorted(p for p in folder.glob(f"{kind}-*.json") if p.name[len(kind) + 1 :].count("-") == 0)


def _uncached(monkeypatch: pytest.MonkeyPatch, compute: Any) -> Any:
    """``compute()`` with the cache off."""
    with monkeypatch.context() as m:
        m.setenv("AFFIDAVIT_NO_CACHE", "1")
        return compute()


def _damaged(good: bytes, name: str) -> list[bytes]:
    """Entries that must be ignored: cut short, not JSON, another format, another entry's name,
    a value of the wrong shape, and no value."""
    document = json.loads(good)
    return [
        good[: len(good) // 2],
        b"\x00\xff not json",
        json.dumps({**document, "format": "other/v9"}).encode(),
        json.dumps({**document, "name": name.replace("-", "-0", 1)}).encode(),
        json.dumps({**document, "value": ["not", "the", "shape"]}).encode(),
        json.dumps({**document, "value": {"other": 1}}).encode(),
        json.dumps({"format": document["format"], "name": name}).encode(),
    ]


# ---------------------------------------------------------------------------------------------
# What JSON gives back exactly


class _Word(StrEnum):
    A = "a"


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -3, 1.5, "x", [], {}, {"a": [1, 2.5, None, {"b": "c", "d": [True, False]}]}, "é\u2028"],
)
def test_json_exact_values(value: Any) -> None:
    assert cache.json_exact(value)
    assert json.loads(json.dumps(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        (1, 2),
        {1: "a"},
        {"a": {True: 1}},
        [float("nan")],
        {"a": float("inf")},
        [dt.date(2026, 1, 1)],
        _Word.A,
        {"a": [b"bytes"]},
        {"a": {"b": {1, 2}}},
    ],
)
def test_values_json_would_change_are_not_exact(value: Any) -> None:
    assert not cache.json_exact(value)


def test_a_value_json_would_change_is_computed_each_time_and_never_stored(cache_home: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, Any]:
        calls.append(1)
        return {"when": dt.date(2026, 1, 1)}

    for _ in range(2):
        value = cache.cached("test-kind", ["x"], compute, lambda v: v, lambda e: e)
        assert value == {"when": dt.date(2026, 1, 1)}
    assert len(calls) == 2
    assert _entries(cache_home, "test-kind") == []


def test_package_digest_follows_the_files_and_leaves_out_compiled_and_hidden_ones(tmp_path: Path) -> None:
    package = tmp_path / "pkg_under_test_e"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("x = 1\n")
    (package / "grammar.lark").write_text("start: 'a'\n")
    sys.path.insert(0, str(tmp_path))
    try:
        first = cache.package_digest.__wrapped__("pkg_under_test_e")
        (package / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\x00")
        (package / ".lark_cache.bin").write_bytes(b"\x01")
        assert cache.package_digest.__wrapped__("pkg_under_test_e") == first
        (package / "grammar.lark").write_text("start: 'b'\n")
        assert cache.package_digest.__wrapped__("pkg_under_test_e") not in (first, None)
    finally:
        sys.path.remove(str(tmp_path))
    assert cache.package_digest("no_such_package_anywhere") is None


# ---------------------------------------------------------------------------------------------
# Control matrices and the crosswalk


def _matrices() -> tuple[tuple[Any, Any], list[list[str]]]:
    """The built-in matrices and crosswalk, and the order of every mapping read from their YAML."""
    orders: list[list[str]] = []
    plain = loader._parse_yaml

    def parse(raw: bytes, where: str) -> Any:
        doc = plain(raw, where)
        stack = [doc]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                orders.append(list(item))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return doc

    loader._parse_yaml = parse
    try:
        return (loader.load_matrices(), loader.load_crosswalk()), orders
    finally:
        loader._parse_yaml = plain


def test_matrices_from_the_cache_are_the_matrices_read_afresh(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _uncached(monkeypatch, _matrices)
    assert not cache_home.exists() or _entries(cache_home, "yaml-document") == []
    assert _matrices() == fresh  # an empty cache: parsed, then stored
    files = sorted(builtin_controls_dir().glob("*.yaml"))
    assert len(_entries(cache_home, "yaml-document")) == len(files) >= 2

    def no_parse(*_: Any, **__: Any) -> Any:
        raise AssertionError("parsed although the cache holds the document")

    monkeypatch.setattr(loader, "load_yaml", no_parse)
    assert _matrices() == fresh  # read from the cache


def test_a_damaged_matrix_entry_is_ignored_and_written_again(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _uncached(monkeypatch, _matrices)
    assert _matrices() == fresh
    entries = _entries(cache_home, "yaml-document")
    good = {p: p.read_bytes() for p in entries}
    for entry in entries:
        for bad in _damaged(good[entry], entry.name):
            entry.write_bytes(bad)
            assert _matrices() == fresh
            assert entry.read_bytes() == good[entry]


def test_a_matrix_that_does_not_parse_is_never_stored(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "schema: affidavit.control-matrix/v1\nframework: [unclosed\n"
    expected = _uncached(monkeypatch, lambda: pytest.raises(ControlMatrixError, loader.parse_matrix, broken))
    for _ in range(2):
        with pytest.raises(ControlMatrixError) as raised:
            loader.parse_matrix(broken)
        assert raised.value.diagnostics() == expected.value.diagnostics()
    assert _entries(cache_home, "yaml-document") == []


def test_a_yaml_date_is_not_stored_and_reads_as_before(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON cannot give a date back: such a document is parsed each time, with the same outcome."""
    dated = (
        (builtin_controls_dir() / "soc2-2017.yaml")
        .read_text(encoding="utf-8")
        .replace("\nversion:", "\nreviewed: 2026-01-01\nversion:", 1)
    )
    assert "reviewed: 2026-01-01" in dated
    expected = _uncached(monkeypatch, lambda: pytest.raises(ControlMatrixError, loader.parse_matrix, dated))
    with pytest.raises(ControlMatrixError) as raised:
        loader.parse_matrix(dated)
    assert raised.value.diagnostics() == expected.value.diagnostics()
    assert "reviewed" in raised.value.diagnostics()
    assert _entries(cache_home, "yaml-document") == []


# ---------------------------------------------------------------------------------------------
# Terraform .tf files


def _tf(name: str, text: str) -> tuple[str, bytes]:
    """The record (as JSON text, its keys in their order) and the bundle's copy of a .tf text."""
    raw = text.encode("utf-8")
    record = collect_document(Artefact(name, raw), OPTIONS).to_json()
    return json.dumps(record), terraform_config.redact(raw, name)


TF_CASES = {
    "main.tf": DEMO_TF.read_text(encoding="utf-8"),
    "secrets.tf": SECRETS_TF,
}


@pytest.mark.parametrize("name", sorted(TF_CASES))
def test_a_tf_file_from_the_cache_is_the_file_read_afresh(
    name: str, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = TF_CASES[name]
    fresh = _uncached(monkeypatch, lambda: _tf(name, text))
    assert _tf(name, text) == fresh  # an empty cache: read, then stored
    assert len(_entries(cache_home, "terraform-config")) == 1
    assert len(_entries(cache_home, "terraform-config-copy")) == 1

    def no_read(*_: Any, **__: Any) -> Any:
        raise AssertionError("read with python-hcl2 although the cache holds the result")

    monkeypatch.setattr(terraform_config, "_load_hcl", no_read)
    assert _tf(name, text) == fresh  # from the cache
    if name == "secrets.tf":
        record, copy = fresh
        for secret in ("correct-horse-battery", "AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", "MIIEow"):
            assert secret not in record
            assert secret.encode() not in copy
            for entry in cache_home.iterdir():
                assert secret.encode() not in entry.read_bytes(), entry.name


def test_the_organisation_key_is_part_of_the_entry(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Markers commit with AFFIDAVIT_SECRET_KEY: a copy made without it is not served with it."""
    plain = _tf("secrets.tf", SECRETS_TF)
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", "an-organisation-key-of-32-bytes!")
    keyed_fresh = _uncached(monkeypatch, lambda: _tf("secrets.tf", SECRETS_TF))
    assert keyed_fresh != plain and b"REDACTED:hmac-sha256:" in keyed_fresh[1]
    assert _tf("secrets.tf", SECRETS_TF) == keyed_fresh
    assert _tf("secrets.tf", SECRETS_TF) == keyed_fresh
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", "short")
    with pytest.raises(Exception, match="shorter than"):
        _tf("secrets.tf", SECRETS_TF)  # a key too short is refused as without the cache
    monkeypatch.delenv("AFFIDAVIT_SECRET_KEY")
    assert _tf("secrets.tf", SECRETS_TF) == plain


def test_the_file_name_is_part_of_the_entry(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems name the file: the same bytes under another name are another entry."""
    first = _tf("a/secrets.tf", SECRETS_TF)
    second = _tf("b/secrets.tf", SECRETS_TF)
    assert second == _uncached(monkeypatch, lambda: _tf("b/secrets.tf", SECRETS_TF))
    assert any("a/secrets.tf" in p for p in json.loads(first[0])["problems"])
    assert all("a/secrets.tf" not in p for p in json.loads(second[0])["problems"])


def test_a_damaged_tf_entry_is_ignored_and_written_again(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _uncached(monkeypatch, lambda: _tf("secrets.tf", SECRETS_TF))
    assert _tf("secrets.tf", SECRETS_TF) == fresh
    entries = _entries(cache_home, "terraform-config") + _entries(cache_home, "terraform-config-copy")
    assert len(entries) == 2
    good = {p: p.read_bytes() for p in entries}
    for entry in entries:
        document = json.loads(good[entry])
        shapes = [{"same": False}, {"text": 3}, {"data": {}, "problems": []}, {"data": document["value"]}]
        shapes += [{**document["value"], "extra": 1}] if isinstance(document["value"], dict) else []
        for bad in [
            *_damaged(good[entry], entry.name),
            *(json.dumps({**document, "value": s}).encode() for s in shapes),
        ]:
            entry.write_bytes(bad)
            assert _tf("secrets.tf", SECRETS_TF) == fresh
            assert entry.read_bytes() == good[entry]


def test_a_tf_file_that_does_not_parse_is_never_stored(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _uncached(monkeypatch, lambda: pytest.raises(InputError, _tf, "broken.tf", BROKEN_TF))
    for _ in range(2):
        with pytest.raises(InputError) as raised:
            _tf("broken.tf", BROKEN_TF)
        assert raised.value.diagnostics() == expected.value.diagnostics()
    assert not cache_home.exists() or list(cache_home.glob("terraform-config*")) == []


def test_a_record_the_collector_would_still_mask_is_never_stored(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _uncached(monkeypatch, lambda: _tf("token.tf", TOKEN_IN_NAME_TF))
    assert "ghp_0123456789abcdefghijABCDEFGHIJ012345" not in fresh[0]
    for _ in range(2):
        assert _tf("token.tf", TOKEN_IN_NAME_TF) == fresh
    assert _entries(cache_home, "terraform-config") == []  # the record is read again each time
    for entry in cache_home.iterdir():
        assert b"ghp_0123456789abcdefghijABCDEFGHIJ012345" not in entry.read_bytes()


def test_a_second_gate_process_does_not_import_python_hcl2(cache_home: Path, tmp_path: Path) -> None:
    """The point of it: once a .tf file was read, a later process takes its record from the cache."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from affidavit.artefact import Artefact\n"
        "from affidavit.collectors import collect_document\n"
        "from affidavit.collectors.formats.terraform_config import redact\n"
        "from affidavit.collectors.interface import CollectOptions\n"
        "raw = Path(sys.argv[1]).read_bytes()\n"
        "record = collect_document(Artefact('main.tf', raw), CollectOptions(now='2026-11-20T12:00:00Z'))\n"
        "redact(raw, 'main.tf')\n"
        "print(record.kind.value, 'hcl2' in sys.modules, 'lark' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home.parent)}
    env.pop("AFFIDAVIT_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(DEMO_TF)], env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]
    assert [r.stdout.split() for r in runs] == [
        ["terraform-config", "True", "True"],
        ["terraform-config", "False", "False"],
    ]


# ---------------------------------------------------------------------------------------------
# The report's template, compiled ahead


def test_the_compiled_template_is_current() -> None:
    """After changing the template, render/markdown.py or render/escape.py (or jinja2), run
    ``python tools/compile_report_template.py``."""
    written = (Path(markdown.__file__).with_name(markdown.COMPILED)).read_text(encoding="utf-8")
    assert written == markdown.compiled_source(), "run: python tools/compile_report_template.py"


RUNS: dict[str, Callable[[], Run]] = {
    "golden": golden_run,
    "sample-fail": lambda: sample_run(),
    "sample-pass": lambda: sample_run(outcome=Outcome.PASS),
    "hostile-everywhere": lambda: hostile_run("*", "| x | <script>`*_[a](b)\u202e\n# h {{ 7*7 }}"),
    "hostile-rule-title": lambda: hostile_run("rule.title", "]]> {{ 7*7 }} {% raw %}", Decision.GO),
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_the_compiled_template_renders_what_the_template_renders(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = RUNS[case]()
    markdown._template.cache_clear()
    try:
        compiled = markdown._template()
        assert compiled.root_render_func.__module__ == "affidavit.render._report_compiled"
        ahead = markdown.render_markdown(run)
        markdown._template.cache_clear()
        monkeypatch.setattr(markdown, "_compiled_module", lambda: None)
        fresh_template = markdown._template()
        assert fresh_template.root_render_func.__module__ != "affidavit.render._report_compiled"
        assert markdown.render_markdown(run) == ahead
    finally:
        markdown._template.cache_clear()


def test_a_stale_compiled_template_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled from another template text or by another jinja2: the template is compiled now."""
    from affidavit.render import _report_compiled

    run = sample_run()
    markdown._template.cache_clear()
    try:
        expected = markdown.render_markdown(run)
        for attribute, value in (("FINGERPRINT", "0" * 64), ("__version__", "0.0.0")):
            target = _report_compiled if attribute == "FINGERPRINT" else jinja2
            with monkeypatch.context() as m:
                m.setattr(target, attribute, value)
                markdown._template.cache_clear()
                template = markdown._template()
                assert template.root_render_func.__module__ != "affidavit.render._report_compiled"
                assert markdown.render_markdown(run) == expected
    finally:
        markdown._template.cache_clear()


# ---------------------------------------------------------------------------------------------
# What ``affidavit --help`` imports


def test_help_imports_neither_the_results_model_nor_difflib() -> None:
    """``--help`` lists the evidence kinds (``model.evidence``) and nothing more of the model; the
    waiver parser imports difflib only to suggest a key."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from affidavit.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "names = ('affidavit.model.evidence', 'affidavit.model.results', 'affidavit.model.waiver', 'difflib')\n"
        "print(' '.join(n for n in names if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["affidavit.model.evidence"]


def test_the_model_package_names_every_value_type_from_its_module() -> None:
    import affidavit.model as model
    from affidavit.model import evidence, results

    for name in model.__all__:
        assert getattr(model, name) is getattr(evidence if hasattr(evidence, name) else results, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = model.no_such_name


# ---------------------------------------------------------------------------------------------
# Commands imported when they are run


def test_every_command_is_named_with_its_module() -> None:
    import importlib

    import click

    from affidavit.cli import COMMANDS, main

    for name, module in COMMANDS.items():
        command = getattr(importlib.import_module(f"affidavit.cli.{module}"), name)
        assert isinstance(command, click.Command) and command.name == name
    listed = CliRunner().invoke(main, ["--help"])
    assert listed.exit_code == 0
    section = listed.output.split("Commands:\n", 1)[1]
    assert [
        line.split()[0]
        for line in section.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    ] == sorted(COMMANDS)
    unknown = CliRunner().invoke(main, ["gat"])
    assert unknown.exit_code == 2 and "No such command 'gat'" in unknown.output and "'gate'" in unknown.output


def test_a_gate_imports_no_other_command(tmp_path: Path) -> None:
    """``affidavit gate`` imports cli.gate (and what it uses), never the other commands' modules."""
    demo = REPO / "evidence" / "demo"
    code = (
        "import sys\n"
        "from affidavit.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:], prog_name='affidavit')\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print(' '.join(m for m in ('bundles', 'collect', 'export', 'library', 'gate') if 'affidavit.cli.' + m in sys.modules))\n"
    )
    args = [
        "gate",
        "--evidence",
        str(demo / "go"),
        "--subject",
        "ghcr.io/acme/shop@" + (demo / "SUBJECT_DIGEST").read_text().strip(),
    ]
    args += [
        "--now",
        "2026-11-20T12:00:00Z",
        "--replay",
        "--params",
        str(demo / "params.yaml"),
        "--key",
        str(demo / "cosign.pub"),
    ]
    args += ["--commit", (demo / "COMMIT").read_text().strip(), "--out", str(tmp_path / "out"), "--no-record"]
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.splitlines()[-2:] == ["exit 0", "gate"], out.stdout[-2000:] + out.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# The cache folder keeps the entries used most recently


def test_the_folder_keeps_the_entries_used_most_recently(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    names = [cache.entry_key("test-prune", [i]) for i in range(5)]
    for i, name in enumerate(names[:3]):
        cache.write_entry(name, {"i": i})
        os.utime(cache_home / name, (1_000_000 + i, 1_000_000 + i))  # written long ago, in this order
    assert cache.read_entry(names[0]) == {"i": 0}  # read: in use again (its time is now)
    cache.write_entry(names[3], {"i": 3})  # one too many: the one unused longest goes
    assert sorted(p.name for p in cache_home.glob("test-prune-*")) == sorted([names[0], names[2], names[3]])
    cache.write_entry(names[4], {"i": 4})
    assert sorted(p.name for p in cache_home.glob("test-prune-*")) == sorted([names[0], names[3], names[4]])
    assert [cache.read_entry(n) for n in names] == [{"i": 0}, None, None, {"i": 3}, {"i": 4}]
