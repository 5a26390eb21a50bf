"""What affidavit costs its users on this machine, against the cost of reading the same inputs.

Every measurement is a whole process (start-up, imports and exit included), timed from spawn to
exit, with its peak resident memory from ``wait4``. Machines here are noisy, so every goal is a
ratio against a floor measured in the same run, never an absolute time in a unit test:

- the full ``affidavit gate`` (collect, evaluate, decide, write the bundle and archive) on inputs of
  ``../shared/bench/gen_evidence.py`` at several sizes (``--sizes``, a multiple of its default: a
  63 MB plan, a 26 MB SBOM and a 13 MB Trivy report at 1x), with the time to the decision: the gate
  runs under a small wrapper that notes the moment the bundle writer is called (the decision and the
  exit code are known by then; nothing of the gate is changed);
- the gate on the plan alone (the input checkov takes 250 s over);
- the two floors: ``json.loads`` of the same files with Python's garbage collector on, and paused;
- the floors of the work itself, each step alone in its own process: regorus given the very input
  the gate built (kept by the wrapper) and asked for the same rule sets, and the gate's own archive
  writer on the bundle folder the gate wrote; with the paused parse they make the least a gate that
  reads its inputs, judges them with real Rego and archives its bundle can cost, and the ratios to
  it are printed beside the issue's goals (and the same for the plan alone);
- the least work found for a gate bound by the format rules and the secrets scrub: each file read
  strictly as the gate reads it (repeated keys, depth and numbers checked) and one walk over every
  key and string, with regorus and the archive as above; what is left of the goal's budget after it
  is what the records, the masking, the reports and the bundle's files may take;
- ``affidavit verify`` of the bundle the gate wrote (folder and archive);
- the gate on the demo releases and ``affidavit --help`` (what a CI user pays per release), with
  ``import click`` alone (the command line's framework, which ``--help`` cannot do without).

Usage: ``python tools/bench.py [--sizes 0.25,1] [--repeat 3] [--work DIR] [--skip-large]``.
Inputs are written once into ``--work`` (a temporary folder by default) and reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GEN = REPO.parent / "shared" / "bench" / "gen_evidence.py"
PY = sys.executable
DEMO = REPO / "evidence" / "demo"
NOW = "2026-11-20T12:00:00Z"
DEFAULTS = {"resources": 15000, "components": 20000, "vulns": 5000}
FILES = ("tfplan.json", "sbom.cdx.json", "trivy.json")

# The gate as ``affidavit`` runs it, but the moment the bundle writer is called is written to
# stderr (a wall-clock epoch, compared with the moment the bench spawned the process).
GATE = """
import os, sys, time
import affidavit.bundle.write as _write
_inner = _write.write_bundle
def _timed(*args, **kwargs):
    print("DECIDED", repr(time.time()), file=sys.stderr, flush=True)
    return _inner(*args, **kwargs)
_write.write_bundle = _timed
if os.environ.get("BENCH_KEEP_INPUT"):  # the engine's input and rule paths, kept for the engine floor
    import json
    from affidavit.policy.engines import regorus as _regorus
    _evaluate = _regorus.RegorusEngine.evaluate
    def _kept(self, modules, input_json, paths, *, now):
        with open(os.environ["BENCH_KEEP_INPUT"], "w", encoding="utf-8") as out:
            out.write(json.dumps({"paths": list(paths), "now": now.isoformat()}) + chr(10) + input_json)
        return _evaluate(self, modules, input_json, paths, now=now)
    _regorus.RegorusEngine.evaluate = _kept
from affidavit.cli import run
sys.argv = ["affidavit", *sys.argv[1:]]
run()
"""
FLOOR = """
import gc, json, sys
if sys.argv[1] == "paused":
    gc.disable()
docs = [json.loads(open(p, "rb").read()) for p in sys.argv[2:]]
"""
# The engine alone: regorus given the very input the gate built and asked for the same rule sets
# (the policy library loaded first, from the user cache as a gate loads it); the seconds from
# handing it the input text to its answer are written to stderr.
ENGINE = """
import datetime, json, sys, time
from affidavit.policy.engines.regorus import RegorusEngine
from affidavit.policy.loader import load_policy_set
with open(sys.argv[1], encoding="utf-8") as kept:
    head = json.loads(kept.readline())
    text = kept.read()
modules = load_policy_set(()).modules
began = time.perf_counter()
RegorusEngine().evaluate(modules, text, head["paths"], now=datetime.datetime.fromisoformat(head["now"]))
print("PART", repr(time.perf_counter() - began), file=sys.stderr)
"""
# The archive alone: the bundle folder the gate wrote, as a .tar.gz by the gate's own writer (its
# level, its threads); the seconds of writing it are written to stderr.
ARCHIVE = """
import os, sys, time
from pathlib import Path
from affidavit.bundle.archive import archive_order, write_tar_gz
folder = Path(sys.argv[1])
names = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
began = time.perf_counter()
with open(sys.argv[2], "wb") as out:
    write_tar_gz(out, folder.name, [(n, (folder / n).stat().st_size) for n in archive_order(names)], lambda n: open(folder / n, "rb"))
print("PART", repr(time.perf_counter() - began), file=sys.stderr)
"""
# The least work found for reading the inputs as a gate must: each file read strictly as the gate
# reads it (``artefact.load_json``: a repeated key, a depth past the limit, a number JSON cannot
# carry refused; the collector paused), then one walk that looks at every key and string once (the
# secrets scrub must see each of them). No cheaper strict read was found: ``orjson`` with a walk to
# count the keys, or with an escape-aware scan, cost as much (issue 14's notes). The seconds of the
# read are written to stderr, and of both.
NEEDED = """
import gc, sys, time
from affidavit.artefact import load_json
gc.disable()
def walk(root):
    strings = []
    add, extend, stack = strings.append, strings.extend, [root]
    push, pop = stack.append, stack.pop
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            extend(node)
            for child in node.values():
                kind = type(child)
                if kind is str:
                    add(child)
                elif (kind is dict or kind is list) and child:
                    push(child)
        else:
            for child in node:
                kind = type(child)
                if kind is str:
                    add(child)
                elif (kind is dict or kind is list) and child:
                    push(child)
    return len(strings)
read = walked = 0.0
for path in sys.argv[1:]:
    began = time.perf_counter()
    with open(path, "rb") as file:
        doc = load_json(file.read(), path)
    middle = time.perf_counter()
    if type(doc) in (dict, list):
        walk(doc)
    read += middle - began
    walked += time.perf_counter() - middle
    del doc
print("READ", repr(read), file=sys.stderr)
print("PART", repr(read + walked), file=sys.stderr)
"""
CLICK = "import click"
VERIFY = "import sys\nfrom affidavit.cli import run\nsys.argv = ['affidavit', 'verify', *sys.argv[1:]]\nrun()"
HELP = "import sys; sys.argv = ['affidavit', '--help']\nfrom affidavit.cli import run\nrun()"


@dataclass(frozen=True)
class Sample:
    """One whole process: seconds from spawn to exit, seconds to the decision, peak RSS in MiB."""

    seconds: float
    decided: float | None
    peak_mib: float
    part: float | None = None  # the seconds a floor's own step took (``PART`` on stderr)
    read: float | None = None  # the seconds of the strict read alone (``READ``, the ``NEEDED`` step)


def spawn(
    code: str, *args: str, ok: tuple[int, ...] = (0, 1), extra_env: dict[str, str] | None = None
) -> Sample:
    """Run ``python -c code args`` to its end; its time, time to decision and peak memory."""
    env = dict(os.environ, PYTHONHASHSEED="0", **(extra_env or {}))
    env.pop("RUST_BACKTRACE", None)
    # An installed affidavit runs from bytecode (pip compiles it; Python caches it after a first
    # run): a shell that forbids writing it would time recompiling every module on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.time()
    begin = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - begin
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise SystemExit(f"benchmark step failed (exit {proc.returncode}): {args[:3]}\n{err[-2000:]}")
    decided = part = read = None
    for line in err.splitlines():
        if line.startswith("DECIDED "):
            decided = float(line.split()[1]) - started
        elif line.startswith("PART "):
            part = float(line.split()[1])
        elif line.startswith("READ "):
            read = float(line.split()[1])
    return Sample(elapsed, decided, usage.ru_maxrss / 1024, part, read)


WARMUP = [1]  # runs before each measured series (``--warmup``)


def series(code: str, args: list[str], repeat: int, fresh_out: Path | None = None) -> list[Sample]:
    """``repeat`` runs after the warm-up; with ``fresh_out`` each run writes into a new empty folder
    (a bundle is never written over, and finding one already recorded costs a verify instead) and
    records into a new empty run history (what a first run pays; never the user's own history)."""
    samples = []
    for i in range(repeat + WARMUP[0]):
        extra: list[str] = []
        history = None if fresh_out is None else fresh_out / f"history{i}.db"
        if fresh_out is not None and history is not None:
            out = fresh_out / f"run{i}"
            shutil.rmtree(out, ignore_errors=True)
            history.unlink(missing_ok=True)
            extra = ["--out", str(out), "--store", f"sqlite://{history}"]
        sample = spawn(code, *args, *extra)
        if i >= WARMUP[0]:
            samples.append(sample)
        if fresh_out is not None and history is not None:
            shutil.rmtree(fresh_out / f"run{i}", ignore_errors=True)
            history.unlink(missing_ok=True)
    return samples


def med(samples: list[Sample], attr: str) -> float:
    """The median of one field."""
    values = [getattr(s, attr) for s in samples]
    return float(statistics.median(values)) if None not in values else float("nan")


def line(label: str, samples: list[Sample], decided: bool = False) -> str:
    """``label  median s (min-max)  [decided s]  peak MiB``."""
    times = [s.seconds for s in samples]
    text = f"  {label:34} {med(samples, 'seconds'):7.2f} s ({min(times):.2f}-{max(times):.2f})"
    if decided:
        text += f"  decision at {med(samples, 'decided'):6.2f} s"
    else:
        text += " " * 25
    return text + f"  peak {max(s.peak_mib for s in samples):6.0f} MiB"


def part_line(label: str, samples: list[Sample]) -> str:
    """``label  median s (min-max) of the step itself``, then the whole process's peak memory."""
    parts = [s.part for s in samples if s.part is not None]
    text = f"  {label:34} {med(samples, 'part'):7.2f} s ({min(parts):.2f}-{max(parts):.2f})"
    return text + " " * 25 + f"  peak {max(s.peak_mib for s in samples):6.0f} MiB"


def generate(work: Path, size: float) -> Path:
    """The generator's inputs at ``size`` times its defaults (written once, then reused)."""
    folder = work / f"x{size:g}"
    if not all((folder / name).is_file() for name in FILES):
        counts = {k: max(1, round(v * size)) for k, v in DEFAULTS.items()}
        subprocess.run(
            [PY, str(GEN), "--out", str(folder), *(f"--{k}={v}" for k, v in counts.items())],
            check=True,
            capture_output=True,
        )
    return folder


def gate_args(evidence: list[Path], subject: str) -> list[str]:
    """A replayed gate with the demo organisation's rule data (whom it trusts)."""
    args = ["gate", *(a for p in evidence for a in ("--evidence", str(p)))]
    args += ["--subject", subject, "--now", NOW, "--replay", "--params", str(DEMO / "params.yaml")]
    return args + ["--commit", (DEMO / "COMMIT").read_text().strip()]


def measure_size(work: Path, size: float, repeat: int, scratch: Path) -> dict[str, float]:
    """Floors and gate at one input size; prints its lines and returns the medians for the summary."""
    folder = generate(work, size)
    paths = [folder / name for name in FILES]
    mb = sum(p.stat().st_size for p in paths) / 1e6
    subject = f"ghcr.io/acme/shop@{(DEMO / 'SUBJECT_DIGEST').read_text().strip()}"
    print(
        f"size {size:g}x: {mb:.0f} MB ({', '.join(f'{p.name} {p.stat().st_size / 1e6:.0f} MB' for p in paths)})"
    )
    gc_on = series(FLOOR, ["on", *map(str, paths)], repeat)
    print(line("json.loads, collector on", gc_on))
    gc_off = series(FLOOR, ["paused", *map(str, paths)], repeat)
    print(line("json.loads, collector paused", gc_off))
    needed = series(NEEDED, list(map(str, paths)), repeat)
    print(part_line("strict read and one walk", needed))
    full = series(GATE, gate_args([folder], subject), repeat, scratch)
    print(line("affidavit gate (all three)", full, decided=True))
    plan = series(GATE, gate_args([folder / "tfplan.json"], subject), repeat, scratch)
    print(line("affidavit gate (the plan alone)", plan, decided=True))
    kept = scratch / "kept"
    shutil.rmtree(kept, ignore_errors=True)
    engine_input, plan_input = scratch / "engine-input.txt", scratch / "plan-input.txt"
    spawn(
        GATE,
        *gate_args([folder], subject),
        "--out",
        str(kept),
        "--no-record",
        extra_env={"BENCH_KEEP_INPUT": str(engine_input)},
    )
    spawn(
        GATE,
        *gate_args([folder / "tfplan.json"], subject),
        "--out",
        str(scratch / "kept-plan"),
        "--no-record",
        extra_env={"BENCH_KEEP_INPUT": str(plan_input)},
    )
    shutil.rmtree(scratch / "kept-plan", ignore_errors=True)
    bundle = next(p for p in kept.iterdir() if p.is_dir())
    engine = series(ENGINE, [str(engine_input)], repeat)
    print(part_line("regorus on the gate's input, alone", engine))
    archive_alone = series(ARCHIVE, [str(bundle), str(scratch / "archive.tar.gz")], repeat)
    print(part_line("the bundle's .tar.gz, alone", archive_alone))
    plan_parse = series(FLOOR, ["paused", str(folder / "tfplan.json")], repeat)
    print(line("json.loads of the plan, paused", plan_parse))
    plan_engine = series(ENGINE, [str(plan_input)], repeat)
    print(part_line("regorus on the plan's input, alone", plan_engine))
    plan_needed = series(NEEDED, [str(folder / "tfplan.json")], repeat)
    print(part_line("the plan's strict read and walk", plan_needed))
    engine_input.unlink()
    plan_input.unlink()
    (scratch / "archive.tar.gz").unlink(missing_ok=True)
    verify = series(VERIFY, [str(bundle), "--allow-unsigned"], repeat)
    print(line("affidavit verify (the folder)", verify))
    archive = next(kept.glob("*.tar.gz"))
    print(line("affidavit verify (the archive)", series(VERIFY, [str(archive), "--allow-unsigned"], repeat)))
    shutil.rmtree(kept, ignore_errors=True)
    result = {
        "mb": mb,
        "floor_on": med(gc_on, "seconds"),
        "floor_off": med(gc_off, "seconds"),
        "floor_on_mib": max(s.peak_mib for s in gc_on),
        "gate": med(full, "seconds"),
        "decided": med(full, "decided"),
        "gate_mib": max(s.peak_mib for s in full),
        "plan": med(plan, "seconds"),
        "engine": med(engine, "part"),
        "archive": med(archive_alone, "part"),
        "plan_floor": med(plan_parse, "seconds") + med(plan_engine, "part"),
        "strict": med(needed, "read"),
        "needed": med(needed, "part"),
        "plan_needed": med(plan_needed, "part") + med(plan_engine, "part"),
    }
    done = result["floor_off"] + result["engine"]  # parse and judge: no gate decides sooner
    whole = done + result["archive"]  # and the archive: no gate writes its bundle sooner
    print(
        f"  floors of the work itself: parse (paused) + regorus {done:.2f} s, + archive {whole:.2f} s, "
        f"the plan's parse + regorus {result['plan_floor']:.2f} s; gate / that {result['gate'] / whole:.2f}x, "
        f"decision / that {result['decided'] / done:.2f}x, plan alone / that {result['plan'] / result['plan_floor']:.2f}x"
    )
    # The least work found: what no gate that obeys the format rules and the secrets scrub can skip
    # (the records, the masking, the reports and the bundle's files come on top).
    least = result["needed"] + result["engine"] + result["archive"]
    budget = 2 * result["floor_on"]
    print(
        f"  least work found: strict read {result['strict']:.2f} s + one walk {result['needed'] - result['strict']:.2f} s "
        f"+ regorus + archive = {least:.2f} s, leaving {budget - least:.2f} s of the goal's {budget:.2f} s "
        f"for everything else; gate / that {result['gate'] / least:.2f}x; the plan's read, walk and "
        f"regorus {result['plan_needed']:.2f} s (goal 2.5 s), plan alone / that {result['plan'] / result['plan_needed']:.2f}x"
    )
    print(
        f"  ratios: gate/floor(gc on) {result['gate'] / result['floor_on']:.2f}x (goal <= 2), "
        f"decision/floor(gc paused) {result['decided'] / result['floor_off']:.2f}x (goal <= 2), "
        f"peak/floor peak {result['gate_mib'] / result['floor_on_mib']:.2f}x (goal <= 1.5), "
        f"plan alone {result['plan']:.2f} s (goal < 2.5 s at 1x)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table with its ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="0.25,1", help="multiples of the generator's default size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (after one warm-up)")
    parser.add_argument("--work", type=Path, help="folder for the generated inputs (kept)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs before each series")
    parser.add_argument("--skip-large", action="store_true", help="only the demo and --help")
    parser.add_argument("--skip-fixed", action="store_true", help="no demo and --help (large inputs only)")
    args = parser.parse_args(argv)
    WARMUP[0] = args.warmup
    work = args.work or Path(tempfile.mkdtemp(prefix="affidavit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="affidavit-bench-out-"))
    print(
        f"machine: {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}; "
        f"repeat {args.repeat}, warm-up {args.warmup} (medians; min-max in brackets)"
    )
    try:
        if not args.skip_fixed:
            fixed_costs(args.repeat, scratch)
        if args.skip_large:
            return 0
        results = {
            float(s): measure_size(work, float(s), args.repeat, scratch) for s in args.sizes.split(",")
        }
        if len(results) > 1:
            print("scaling (per MB of input: gate seconds, gate MiB; floor MiB)")
            for size, r in results.items():
                print(
                    f"  {size:g}x: {r['gate'] / r['mb'] * 1000:.0f} ms/MB, {r['gate_mib'] / r['mb']:.1f} MiB/MB "
                    f"(json.loads {r['floor_on_mib'] / r['mb']:.1f} MiB/MB)"
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def fixed_costs(repeat: int, scratch: Path) -> None:
    """What every run pays whatever its inputs: ``--help`` and the gate on the demo releases."""
    print("fixed costs")
    print(line("affidavit --help", series(HELP, [], repeat * 2)))
    print(line("python -c pass", series("pass", [], repeat * 2)))
    print(line("python -c 'import click'", series(CLICK, [], repeat * 2)))
    subject = f"ghcr.io/acme/shop@{(DEMO / 'SUBJECT_DIGEST').read_text().strip()}"
    for release in ("go", "no-go"):
        demo = gate_args([DEMO / release], subject) + ["--key", str(DEMO / "cosign.pub")]
        print(line(f"gate on demo/{release}", series(GATE, demo, repeat * 2, scratch), decided=True))


if __name__ == "__main__":
    sys.exit(main())
