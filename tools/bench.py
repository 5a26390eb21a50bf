"""Speed and memory of affidavit on this machine, as ratios measured in one run.

Machines here are noisy, so the targets are checked as ratios against a baseline taken in the
same run, never by timed unit tests:

- ``affidavit --help`` against a bare ``python -c pass`` (must not import the heavy libraries);
- ``affidavit collect`` of each large generated artefact against ``json.loads`` of the same file
  (parse once; target: a small multiple), with the peak memory of each against the file size;
- the gate on the demo release, whole process, and the part after start-up.

Usage: ``python tools/bench.py [--repeat N] [--out DIR]``. Large inputs come from
``../shared/bench/gen_evidence.py`` (default sizes: a 63 MB plan, a 20,000-component SBOM, a
5,000-finding Trivy report), written to a temporary folder unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GEN = REPO.parent / "shared" / "bench" / "gen_evidence.py"
PY = sys.executable

_PEAK = (
    "import resource, sys; print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
)


def run(code: str, *args: str) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of ``python -c code args`` as a whole process."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("RUST_BACKTRACE", None)
    start = time.perf_counter()
    proc = subprocess.run([PY, "-c", f"{code}\n{_PEAK}", *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"benchmark step failed ({proc.returncode}): {code[:60]}...\n{proc.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK "))
    return elapsed, peak


def series(code: str, repeat: int, *args: str) -> tuple[list[float], int]:
    """``repeat`` runs after one warm-up: times, and the largest peak RSS seen."""
    run(code, *args)
    times, peaks = [], []
    for _ in range(repeat):
        t, p = run(code, *args)
        times.append(t)
        peaks.append(p)
    return times, max(peaks)


def paired(a: str, b: str, repeat: int, *args: str) -> tuple[list[float], list[float], list[float], int, int]:
    """A and B alternated; per-pair ratios A/B (robust against a noisy neighbour)."""
    run(a, *args)
    run(b, *args)
    ta, tb, ratios, pa, pb = [], [], [], 0, 0
    for _ in range(repeat):
        x, px = run(a, *args)
        y, py = run(b, *args)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
        pa, pb = max(pa, px), max(pb, py)
    return ta, tb, ratios, pa, pb


def fmt(values: list[float]) -> str:
    """median (min-max) to the millisecond."""
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


COLLECT = (
    "import sys; from pathlib import Path\n"
    "from affidavit.collectors import CollectOptions, Artefact, collect_document\n"
    "e = collect_document(Artefact.from_path(Path(sys.argv[1])), CollectOptions(now='2026-11-20T12:00:00Z'))\n"
    "assert e.kind"
)
JSON_LOAD = "import json, sys; json.loads(open(sys.argv[1], 'rb').read())"
HELP = "from affidavit.cli import main; import sys; sys.argv=['affidavit','--help']\ntry:\n main()\nexcept SystemExit: pass"
GATE = (
    "import sys; from affidavit.cli import main; sys.argv = ['affidavit', 'gate', '--evidence', sys.argv[1], "
    "'--subject', sys.argv[2], '--key', sys.argv[3], '--commit', sys.argv[4], '--now', '2026-11-20T12:00:00Z', '--replay', "
    "'--out', sys.argv[5], '--params', sys.argv[6]]\ntry:\n main()\nexcept SystemExit: pass"
)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    work = args.out or Path(tempfile.mkdtemp(prefix="affidavit-bench-"))
    if not (work / "tfplan.json").is_file():
        subprocess.run([PY, str(GEN), "--out", str(work)], check=True, capture_output=True)

    print(
        f"machine: {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}; n={args.repeat}"
    )
    print()
    ta, tb, ratios, pa, pb = paired(HELP, "pass", args.repeat)
    print(
        f"affidavit --help       {fmt(ta)}  peak {pa // 1024} MiB   | python -c pass {fmt(tb)} | ratio {statistics.median(ratios):.1f}x"
    )
    print()
    print(
        "collect (whole process)              | json.loads of the same file        | ratio (median, min-max)  | size   | peak RSS"
    )
    for name in ("tfplan.json", "sbom.cdx.json", "trivy.json"):
        path = work / name
        ta, tb, ratios, pa, pb = paired(COLLECT, JSON_LOAD, args.repeat, str(path))
        size = path.stat().st_size / 2**20
        print(
            f"{name:14} {fmt(ta):22} | {fmt(tb):34} | {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f})   | {size:5.1f} MB | {pa // 1024} MiB (json.loads: {pb // 1024} MiB)"
        )
    print()
    demo = REPO / "evidence" / "demo"
    digest = (demo / "SUBJECT_DIGEST").read_text().strip()
    commit = (demo / "COMMIT").read_text().strip()
    with tempfile.TemporaryDirectory() as out:
        for variant in ("go", "no-go"):
            times, peak = series(
                GATE,
                args.repeat,
                str(demo / variant),
                f"ghcr.io/acme/shop@{digest}",
                str(demo / "cosign.pub"),
                commit,
                out,
                str(demo / "params.yaml"),  # the demo organisation's rule data
            )
            print(
                f"gate on demo/{variant:6} {fmt(times)}  peak {peak // 1024} MiB (whole process, start-up included)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
