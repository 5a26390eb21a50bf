#!/usr/bin/env python3
"""Run OPA's conformance cases against affidavit's Rego engine and keep the expected-failures list.

The cases are ``../shared/opa-conformance/v1/<category>/*.yaml`` (OPA's own test cases, see that
folder's SOURCES.md). Each case runs in a fresh engine: by default affidavit's ``RegorusEngine``
session, i.e. regorus *with* affidavit's extensions registered (pinned ``time.now_ns`` -- here the
wall clock, as OPA would --, disabled ``http.send``, ``crypto.*``, ``array.flatten``, ...);
``--baseline`` runs bare regorus instead, to measure what the extensions change.

Cases run in worker subprocesses with a per-case timeout, so a hang or a crash costs one case.
Prints pass/fail counts per category and overall; writes the names of failing cases to
``tests/policy/conformance_expected_failures.txt`` (not with ``--baseline`` or ``--no-write``),
which ``tests/policy/test_conformance.py`` compares against for the categories the extensions
cover.

A case passes when it expects a result and the engine gives the same rows (bindings of the query's
variables; generated ``__local*__`` variables ignored; rows compared as a multiset), or when it
expects an error (``want_error``/``want_error_code``) and the engine raises one. Whether the error
text contains OPA's ``want_error`` is counted separately. regorus always raises on built-in errors,
so ``strict_error`` makes no difference here.

Usage::

    python tools/conformance.py [--baseline] [--jobs N] [--timeout S] [--category PREFIX ...]
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO.parent / "shared" / "opa-conformance" / "v1"
EXPECTED = REPO / "tests" / "policy" / "conformance_expected_failures.txt"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Case:
    """One conformance case: a stable name, its category and its YAML content."""

    name: str
    category: str
    spec: dict[str, Any]


def load_cases(suite: Path = SUITE, prefixes: Sequence[str] = ()) -> list[Case]:
    """Every case of the suite (or of the categories starting with one of ``prefixes``), sorted."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    cases: list[Case] = []
    for path in sorted(suite.glob("*/*.yaml")):
        category = path.parent.name
        if prefixes and not any(category.startswith(p) for p in prefixes):
            continue
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
        for index, spec in enumerate(document.get("cases") or []):
            note = str(spec.get("note", "")).replace("\n", " ")
            name = f"{path.relative_to(suite).as_posix()}#{index} {note}"
            cases.append(Case(name, category, spec))
    return cases


# ---------------------------------------------------------------------------------------------
# Running one case (inside a worker)


def _normalise(value: Any) -> Any:
    """Integral floats as ints, recursively (1.0 from one engine equals 1 from another)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of a call (brackets and strings respected)."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    escaped = False
    for ch in text:
        if quote:
            current += ch
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in '"`':
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def rewrite_output_args(module: str) -> str:
    """``f(a, out)`` -> ``out = f(a)`` for affidavit's extension functions.

    OPA's IR generator writes built-in calls in the output-argument form, which regorus accepts for
    its own built-ins but not for functions registered with ``add_extension``. This rewrite (used
    only with ``--rewrite-output-args``) lets the suite test the extensions' *results*.
    """
    import re

    from affidavit.policy.engines.extensions import extensions

    for ext in extensions(0):
        pattern = re.compile(rf"(?<![\w.]){re.escape(ext.name)}\(([^()]*)\)")

        def fix(match: re.Match[str], ext_name: str = ext.name, nargs: int = ext.nargs) -> str:
            """Rewrite one call when it has one argument more than the function takes."""
            args = _split_args(match.group(1))
            if len(args) != nargs + 1 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args[-1]):
                return match.group(0)
            return f"{args[-1]} = {ext_name}({', '.join(args[:-1])})"

        module = pattern.sub(fix, module)
    return module


def _rows(rows: Iterable[dict[str, Any]], sort_bindings: bool) -> list[str]:
    """Result rows in a canonical, order-independent form."""
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            if key.startswith("__") or key.startswith("$"):
                continue
            value = _normalise(value)
            if sort_bindings and isinstance(value, list):
                value = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
            clean[key] = value
        out.append(json.dumps(clean, sort_keys=True))
    return sorted(out)


def _input_document(spec: dict[str, Any]) -> Any:
    """The case's input: ``input``, or ``input_term`` (a Rego term) turned into JSON."""
    if "input" in spec:
        return spec["input"]
    term = spec.get("input_term")
    if term is None:
        return None
    try:
        return json.loads(term)
    except ValueError:
        import regorus

        engine = regorus.Engine()
        result = json.loads(engine.eval_query_as_json(f"__affidavit_input := {term}"))
        return result["result"][0]["bindings"]["__affidavit_input"]


def _error_text(exc: BaseException) -> str:
    """An engine exception as one line (the adapter's cleaning, backtrace removed)."""
    from affidavit.policy.engines.regorus import clean_error

    return clean_error(str(exc))


def run_case(spec: dict[str, Any], baseline: bool, rewrite: bool = False) -> dict[str, Any]:
    """Run one case in a fresh engine; returns ``{"status": "pass"|"fail", "detail", "error_text"}``."""
    expects_error = "want_error" in spec or "want_error_code" in spec
    modules = spec.get("modules") or []
    if rewrite:
        modules = [rewrite_output_args(m) for m in modules]
    data = spec.get("data")
    try:
        document = _input_document(spec)
        input_json = None if document is None and "input" not in spec else json.dumps(document)
        if baseline:
            import regorus

            engine = regorus.Engine()
            engine.set_gather_prints(True)
            for i, text in enumerate(modules):
                engine.add_policy(f"case/mod{i}.rego", text)
            if data:
                engine.add_data_json(json.dumps(data))
            if input_json is not None:
                engine.set_input_json(input_json)
            raw: Any = json.loads(engine.eval_query_as_json(spec["query"]))
        else:
            from affidavit.policy.engines.regorus import RegorusEngine
            from affidavit.policy.interface import PolicyModule

            session = RegorusEngine().session(
                [PolicyModule.from_text(f"case/mod{i}.rego", text) for i, text in enumerate(modules)],
                now_ns=time.time_ns(),
                input_json=input_json,
                data=data or None,
            )
            raw, error = session.query_results(spec["query"])
            if error is not None:
                raise RuntimeError(error)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        text = _error_text(exc)
        if expects_error:
            want_text = str(spec.get("want_error", ""))
            return {"status": "pass", "detail": None, "error_text": bool(want_text) and want_text in text}
        return {"status": "fail", "detail": f"error: {text}", "error_text": False}
    if expects_error:
        return {"status": "fail", "detail": "expected an error, got a result", "error_text": False}
    results = (raw.get("result") or []) if isinstance(raw, dict) else []
    got = _rows((r.get("bindings") or {} for r in results), bool(spec.get("sort_bindings")))
    want = _rows(spec.get("want_result") or [], bool(spec.get("sort_bindings")))
    if got == want:
        return {"status": "pass", "detail": None, "error_text": False}
    return {"status": "fail", "detail": f"got {got[:3]} want {want[:3]}", "error_text": False}


def worker_main(baseline: bool, rewrite: bool) -> None:
    """Worker loop: one JSON request per stdin line, one JSON answer per stdout line."""
    os.environ.pop("RUST_BACKTRACE", None)
    for line in sys.stdin:
        request = json.loads(line)
        answer = run_case(request["spec"], baseline, rewrite)
        answer["id"] = request["id"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# The parent: a few workers, a timeout per case


class Worker:
    """A worker subprocess that runs cases one at a time and can be killed on timeout."""

    def __init__(self, baseline: bool, rewrite: bool = False) -> None:
        """Start the subprocess (stderr discarded: regorus' panic hook writes there)."""
        argv = [sys.executable, str(Path(__file__).resolve()), "--worker"]
        argv += (["--baseline"] if baseline else []) + (["--rewrite-output-args"] if rewrite else [])
        env = dict(os.environ)
        env.pop("RUST_BACKTRACE", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.baseline = baseline
        self.buffer = ""

    def run(self, case_id: int, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one case and wait for its answer; a timeout or crash is a failure of that case."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps({"id": case_id, "spec": spec}, default=str) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"status": "fail", "detail": "worker died", "error_text": False}
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return {"status": "fail", "detail": f"timeout after {timeout:g} s", "error_text": False}
                line = self.proc.stdout.readline()
                if not line:
                    return {"status": "fail", "detail": "worker crashed", "error_text": False}
                answer: dict[str, Any] = json.loads(line)
                if answer.get("id") == case_id:
                    return answer
        finally:
            selector.close()

    def alive(self) -> bool:
        """True while the subprocess runs."""
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the subprocess (it is ours; killed by its own pid)."""
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_cases(
    cases: Sequence[Case],
    *,
    baseline: bool = False,
    rewrite: bool = False,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, dict[str, Any]]:
    """Run every case in worker subprocesses; returns the answer per case name."""
    import threading

    results: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    queue = list(enumerate(cases))
    queue.reverse()

    def loop() -> None:
        """One thread per worker: take cases until none are left; replace a worker that failed."""
        worker = Worker(baseline, rewrite)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    case_id, case = queue.pop()
                answer = worker.run(case_id, case.spec, timeout)
                if answer.get("detail") in ("worker crashed", "worker died") or str(
                    answer.get("detail", "")
                ).startswith("timeout"):
                    worker.proc.kill()
                    worker.close()
                    worker = Worker(baseline, rewrite)
                with lock:
                    results[case.name] = answer
        finally:
            worker.close()

    threads = [threading.Thread(target=loop) for _ in range(max(1, min(jobs, len(cases))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def read_expected(path: Path = EXPECTED) -> set[str]:
    """Names of the cases expected to fail (comment and blank lines ignored)."""
    if not path.is_file():
        return set()
    return {
        line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    }


def write_expected(failing: Iterable[str], path: Path = EXPECTED) -> None:
    """Write the expected-failures list, sorted, with a header saying how it was made."""
    header = (
        "# OPA conformance cases that fail on affidavit's RegorusEngine (regorus with affidavit's\n"
        "# extensions). Written by tools/conformance.py; tests/policy/test_conformance.py checks that\n"
        "# the categories the extensions cover fail exactly these cases. Regenerate with:\n"
        "#   python tools/conformance.py\n"
    )
    path.write_text(header + "".join(f"{name}\n" for name in sorted(failing)), encoding="utf-8")


def summarise(cases: Sequence[Case], results: dict[str, dict[str, Any]]) -> str:
    """Per-category counts (categories with failures, then a line for all others) and the total."""
    per: dict[str, list[int]] = {}
    for case in cases:
        counts = per.setdefault(case.category, [0, 0, 0])
        counts[1] += 1
        if results[case.name]["status"] == "pass":
            counts[0] += 1
        if results[case.name].get("error_text"):
            counts[2] += 1
    lines = [f"{'category':40} {'pass':>6} {'cases':>6}"]
    clean = 0
    for category in sorted(per):
        passed, total, _ = per[category]
        if passed == total:
            clean += 1
            continue
        lines.append(f"{category:40} {passed:6} {total:6}")
    passed = sum(c[0] for c in per.values())
    total = sum(c[1] for c in per.values())
    lines.append(f"(+ {clean} categories where every case passes)")
    expecting = [c for c in cases if "want_error" in c.spec or "want_error_code" in c.spec]
    matched = sum(bool(results[c.name].get("error_text")) for c in expecting)
    raised = sum(results[c.name]["status"] == "pass" for c in expecting)
    lines.append(
        f"error cases: {raised}/{len(expecting)} raise an error; {matched} of them with OPA's want_error text"
    )
    share = 100.0 * passed / total if total else 0.0
    lines.append(f"overall: {passed}/{total} cases pass ({share:.1f} %) in {len(per)} categories")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--baseline", action="store_true", help="bare regorus, without affidavit's extensions"
    )
    parser.add_argument(
        "--rewrite-output-args",
        action="store_true",
        help="rewrite f(x, out) to out = f(x) for affidavit's extensions (measures their results)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker subprocesses")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per case")
    parser.add_argument("--category", action="append", default=[], help="only categories starting with this")
    parser.add_argument("--suite", type=Path, default=SUITE, help="the conformance cases folder (v1/)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite the expected-failures list")
    parser.add_argument("--show-failures", action="store_true", help="print each failing case and why")
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.baseline, args.rewrite_output_args)
        return 0
    if not args.suite.is_dir():
        print(f"conformance suite not found at {args.suite}", file=sys.stderr)
        return 2
    cases = load_cases(args.suite, args.category)
    started = time.monotonic()
    results = run_cases(
        cases, baseline=args.baseline, rewrite=args.rewrite_output_args, jobs=args.jobs, timeout=args.timeout
    )
    elapsed = time.monotonic() - started
    mode = "bare regorus (baseline)" if args.baseline else "affidavit RegorusEngine (regorus + extensions)"
    if args.rewrite_output_args:
        mode += ", output-argument calls of extensions rewritten"
    print(mode + ":")
    print(summarise(cases, results))
    print(f"run time: {elapsed:.1f} s with {args.jobs} worker(s)")
    failing = [c.name for c in cases if results[c.name]["status"] != "pass"]
    if args.show_failures:
        for name in sorted(failing):
            print(f"FAIL {name}: {results[name].get('detail')}")
    if not args.baseline and not args.rewrite_output_args and not args.no_write and not args.category:
        write_expected(failing)
        print(f"wrote {len(failing)} expected failures to {EXPECTED.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
