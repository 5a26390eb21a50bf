"""The code ``dataclasses`` generates for affidavit's classes, compiled once and kept in the user
cache (``affidavit.codecache``, issue 14's fixed costs): a later process compiles none of it and
its classes behave the same; a gate gives the same bundle with and without the cache; a damaged
entry is ignored and written again; with the cache off nothing is patched or kept.

Every test runs in fresh processes (the entry is stored when a process exits), each with a cache
folder of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOW, REPO, cache_env, process_json

# Counts what is compiled for dataclasses in this process, then uses classes of every kind
# (frozen, slots, ordered, defaults and factories) and reports what they do.
CODE = """\
import json, sys
import affidavit.codecache as cc
compiled = []
real = compile
def counting(source, *args, **kwargs):
    compiled.append(source)
    return real(source, *args, **kwargs)
cc.compile = counting
import dataclasses
from affidavit.model import Decision, Outcome, Subject, Tool
from affidavit.model.results import RuleResult
from affidavit.spool import SPOOL_FROM
a, b = Tool("syft", "1.0"), Tool("syft", "1.0")
try:
    a.name = "other"
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
result = RuleResult(rule_id="x.y", outcome=Outcome.PASS)
print(json.dumps({
    "compiled": len(compiled),
    "patched": getattr(dataclasses, "exec", None) is cc._run,
    "equal": a == b, "hash": hash(a) == hash(b), "repr": repr(a), "frozen": frozen,
    "subject": repr(Subject("n", None, None)),
    "result": repr(result), "fields": [f.name for f in dataclasses.fields(RuleResult)],
}))
"""


def _env(cache_home: Path, *, off: bool = False) -> dict[str, str]:
    return cache_env(cache_home, off=off)


def _run(cache_home: Path, *, off: bool = False, code: str = CODE) -> dict[str, object]:
    return process_json(code, _env(cache_home, off=off))


def _entries(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "affidavit").glob("dataclass-code-*.json"))


def test_a_later_process_compiles_none_of_it_and_its_classes_behave_the_same(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first["patched"] is True
    assert isinstance(first["compiled"], int) and first["compiled"] > 50  # the model's classes
    assert len(_entries(tmp_path)) == 1
    second = _run(tmp_path)
    assert second["compiled"] == 0  # the point: every method from the cache
    off = _run(tmp_path / "off", off=True)
    assert off["patched"] is False and off["compiled"] == 0  # not ours to count: dataclasses compiled
    assert not (tmp_path / "off" / "affidavit").exists() or _entries(tmp_path / "off") == []
    for key in ("equal", "hash", "repr", "frozen", "subject", "result", "fields"):
        assert first[key] == second[key] == off[key], key
    assert first["equal"] is True and first["frozen"] is True


@pytest.mark.parametrize(
    "damage",
    [
        "not json",
        '{"format": "affidavit.cache/v1", "name": "%s", "value": "!!not base64!!"}',
        '{"format": "affidavit.cache/v1", "name": "%s", "value": "AAAA"}',
        "marshal:str-keys",
        "marshal:not-bytes",
        "marshal:not-code",
        "marshal:truncated",
    ],
)
def test_a_damaged_entry_is_ignored_and_written_again(tmp_path: Path, damage: str) -> None:
    import base64
    import marshal

    _run(tmp_path)
    (entry,) = _entries(tmp_path)
    name = entry.name
    if damage.startswith("marshal:"):
        kind = damage.split(":", 1)[1]
        stored = json.loads(entry.read_text())["value"]
        real = marshal.loads(base64.b64decode(stored))  # the digests of the real sources
        value: object = {
            "str-keys": {digest.hex(): blob for digest, blob in real.items()},
            "not-bytes": dict.fromkeys(real, 1),
            "not-code": dict.fromkeys(real, marshal.dumps(1)),  # ran as it is, exec would fail
        }.get(kind, real)
        data = marshal.dumps(value)
        if kind == "truncated":
            data = data[:-7]
        text = json.dumps(
            {"format": "affidavit.cache/v1", "name": name, "value": base64.b64encode(data).decode()}
        )
    else:
        text = damage % name if "%s" in damage else damage
    entry.write_text(text)
    again = _run(tmp_path)
    assert isinstance(again["compiled"], int) and again["compiled"] > 50  # nothing taken from it
    assert again["repr"] == "Tool(name='syft', version='1.0')"
    assert _run(tmp_path)["compiled"] == 0  # written again, whole


def _without_wall_clock(value: object) -> object:
    """``results.json`` without the moment the gate ran (a replay records it; it differs per run)."""
    if isinstance(value, dict):
        return {k: _without_wall_clock(v) for k, v in value.items() if k != "wall_clock"}
    if isinstance(value, list):
        return [_without_wall_clock(v) for v in value]
    return value


def test_a_gate_gives_the_same_results_with_and_without_the_cache(tmp_path: Path) -> None:
    """The demo gate three times: cache off, cache filled, cache used: the same run id, the same
    results (but for the wall clock a replay records) and the same evidence files, byte for byte."""
    outputs = []
    for label, off in (("off", True), ("fill", False), ("use", False)):
        out = tmp_path / label
        done = subprocess.run(
            [sys.executable, "-m", "affidavit", "gate", "--evidence", str(REPO / "evidence" / "demo" / "go")]
            + ["--out", str(out), "-q", "--no-record", "--now", NOW, "--replay"],
            env=_env(tmp_path / "cache", off=off),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode in (0, 1), done.stderr[-2000:]
        (bundle,) = [p for p in out.iterdir() if p.is_dir()]
        evidence = {p.name: p.read_bytes() for p in (bundle / "evidence").iterdir()}
        results = _without_wall_clock(json.loads((bundle / "results.json").read_text()))
        outputs.append((bundle.name, results, evidence))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0][2]) > 5
    assert len(_entries(tmp_path / "cache")) == 1


# Imports every module of affidavit, then compares each pattern its modules hold with the one
# Python's own compiler makes of the same text and flags (``Pattern.__eq__`` compares the code).
REGEX_CODE = """\
import importlib, json, pkgutil, re, sys
import affidavit, affidavit.codecache as cc
names = [m.name for m in pkgutil.walk_packages(affidavit.__path__, "affidavit.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
patterns = [v for name in names for v in vars(sys.modules[name]).values() if isinstance(v, re.Pattern)]
real = cc._real_compile or re._compiler.compile
same = all(p == real(p.pattern, p.flags) for p in patterns)
print(json.dumps({"patterns": len(patterns), "same": same, "new": cc._regexes.added,
                  "cached": len(cc._regexes.blobs or {}), "installed": cc._real_compile is not None}))
"""


def _regexes(cache_home: Path, *, off: bool = False) -> dict[str, object]:
    return _run(cache_home, off=off, code=REGEX_CODE)


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="the regular expressions' cache is for Python 3.11"
)
def test_every_pattern_from_the_cache_is_the_one_python_compiles(tmp_path: Path) -> None:
    first = _regexes(tmp_path)
    assert first["installed"] is True and first["new"] is True
    assert isinstance(first["patterns"], int) and first["patterns"] > 100
    assert first["same"] is True
    second = _regexes(tmp_path)
    assert second["new"] is False  # every pattern from the entry
    assert second["same"] is True and second["patterns"] == first["patterns"]
    off = _regexes(tmp_path / "off", off=True)
    assert off["installed"] is False and off["same"] is True


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="the regular expressions' cache is for Python 3.11"
)
def test_code_the_engine_refuses_is_compiled_afresh(tmp_path: Path) -> None:
    """An entry whose code ``_sre`` refuses (here: every pattern's code cut to three numbers) is
    not trusted: each pattern is compiled again, equal to Python's own; ``re.DEBUG`` patterns are
    never taken from the cache."""
    import base64
    import marshal

    _regexes(tmp_path)
    (entry,) = sorted((tmp_path / "affidavit").glob("regex-code-*.json"))
    stored = json.loads(entry.read_text())
    found = marshal.loads(base64.b64decode(stored["value"]))
    broken = {}
    for key, blob in found.items():
        item = marshal.loads(blob)
        broken[key] = marshal.dumps((item[0], item[1][:3], *item[2:]))
    stored["value"] = base64.b64encode(marshal.dumps(broken)).decode()
    entry.write_text(json.dumps(stored))
    again = _regexes(tmp_path)
    assert again["same"] is True and again["new"] is True
    code = (
        "import re, io, contextlib, affidavit.codecache as cc\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    re.compile('a+b', re.DEBUG)\n"
        "print(len(out.getvalue()) > 0, cc._regexes.added)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["True", "False"], done.stderr[-2000:]


@pytest.mark.parametrize(
    "first",
    ["import affidavit.cache", "import affidavit, json", "import affidavit.artefact", "import affidavit.cli"],
)
def test_any_first_import_works_with_the_cache_empty_and_filled(tmp_path: Path, first: str) -> None:
    """The entries are read on first use, which may come while a module (one the cache itself
    needs, say) is being imported: in a new process, whatever affidavit imports first, with the
    cache empty and then filled, every module is whole (a regression: ``import affidavit.cache``
    first once failed on a half-imported ``affidavit.cache``)."""
    code = f"{first}\nimport json, affidavit.cache as c\nprint(json.dumps(c.json_exact([1])))"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and done.stdout.strip() == "true", done.stderr[-2000:]
    if first.endswith(("artefact", "cli")) and sys.version_info[:2] == (3, 11):  # these compile patterns
        assert len(sorted((tmp_path / "affidavit").glob("regex-code-*.json"))) == 1


@pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="the regular expressions' cache is for Python 3.11"
)
def test_only_patterns_written_in_code_are_kept(tmp_path: Path) -> None:
    """A pattern asked for by a module's or a class's body, or a constant of the function asking, is
    kept; one made while running (as from rule data or a ruleset's branch pattern in the evidence)
    is compiled as always and never stored, so nothing affidavit reads reaches the cache."""
    code = (
        "import json, re, affidavit.codecache as cc\n"
        "AT_TOP = re.compile('kept-at-module-level-[0-9]+')\n"
        "IN_A_COMPREHENSION = tuple(re.compile(w + '-[0-9]') for w in ('kept-from-a-comprehension',))\n"
        "class Holder:\n"
        "    IN_CLASS = re.compile('kept-in-a-class-body-[a-z]+')\n"
        "def made_while_running(text):\n"
        "    return re.compile(text).pattern\n"
        "def matched_while_running():\n"
        "    return re.match('-'.join(['matched-while-running', 'x']), 'y')\n"
        "def constant_in_a_function():\n"
        "    return re.fullmatch('a-constant-of-a-function-[0-9]', 'y')\n"
        "constant_in_a_function()\n"
        "def comprehension_while_running(words):\n"
        "    return [re.compile(w + '-[0-9]') for w in words]\n"
        "comprehension_while_running(['made-in-a-function-comprehension'])\n"
        "made_while_running('from-the-evidence-[0-9]{3}')\n"
        "matched_while_running()\n"
        "keys = cc._regexes.blobs or {}\n"
        "print(json.dumps({p: cc.regex_digest(p, re.UNICODE) in keys or cc.regex_digest(p, 0) in keys for p in [\n"
        "    'kept-at-module-level-[0-9]+', 'kept-in-a-class-body-[a-z]+',\n"
        "    'from-the-evidence-[0-9]{3}', 'matched-while-running-x', 'a-constant-of-a-function-[0-9]',\n"
        "    'kept-from-a-comprehension-[0-9]', 'made-in-a-function-comprehension-[0-9]']}))\n"
    )
    kept = process_json(code, _env(tmp_path))
    assert kept == {
        "kept-at-module-level-[0-9]+": True,
        "kept-in-a-class-body-[a-z]+": True,
        "from-the-evidence-[0-9]{3}": False,
        "matched-while-running-x": False,
        "a-constant-of-a-function-[0-9]": True,
        "kept-from-a-comprehension-[0-9]": True,
        "made-in-a-function-comprehension-[0-9]": False,
    }
