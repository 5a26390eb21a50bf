"""The sample an auditor re-performs: drawn from the population by a recorded seed, so anyone
holding the population can draw it again.

**Order.** Each run's draw key is ``sha256(seed || ":" || population sha256 || ":" || run id)``
(UTF-8 text, ``seed`` in decimal); the sample is the ``size`` runs with the smallest keys, listed
in population order. The population hash makes the draw depend on the whole population (a run
added or changed redraws it) and the seed lets the auditor pick it, not the audited.

**Size** (``SAMPLE_TABLE``): from how often the control operates, following the attribute-sampling
table commonly used for tests of controls in SOC 1 / SOC 2 examinations and SOX testing (the
AICPA Audit Guide *Audit Sampling* and AU-C 530 set no fixed sizes; firms tabulate ranges by
frequency: annual 1, quarterly 2, monthly 2-5, weekly 5-15, daily 20-40, many times a day 25-60).
affidavit takes the **upper** end of each range (the gate is a key automated control: a larger
sample is the cautious choice); ``--sample-size`` overrides it. The frequency is read from the
population: the period's days divided by its runs (``frequency_of``).
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Frequency -> (low, high) sample sizes; affidavit draws the high one.
SAMPLE_TABLE: dict[str, tuple[int, int]] = {
    "annual": (1, 1),
    "quarterly": (2, 2),
    "monthly": (2, 5),
    "weekly": (5, 15),
    "daily": (20, 40),
    "multiple-times-a-day": (25, 60),
}
#: Average days between runs up to which a frequency holds (the first that fits is taken).
_FREQUENCY_BOUNDS = (
    (1.0, "multiple-times-a-day"),
    (1.5, "daily"),
    (10.0, "weekly"),
    (45.0, "monthly"),
    (135.0, "quarterly"),
)


@dataclass(frozen=True, slots=True)
class SamplePlan:
    """How the sample is drawn: seed, population hash, frequency, size and whether it was given."""

    seed: int
    population_sha256: str
    frequency: str
    size: int
    size_given: bool

    def to_json(self) -> dict[str, object]:
        """The plan as period.json records it."""
        low, high = SAMPLE_TABLE[self.frequency]
        return {
            "seed": self.seed,
            "population_sha256": self.population_sha256,
            "method": "the runs with the smallest sha256(seed:population_sha256:run_id), in population order",
            "frequency": self.frequency,
            "table_range": [low, high],
            "size": self.size,
            "size_source": "--sample-size" if self.size_given else "table (upper end of the range)",
        }


def frequency_of(runs: int, days: int) -> str:
    """The frequency a population of ``runs`` over ``days`` days shows (annual when it is empty)."""
    if runs <= 0:
        return "annual"
    between = days / runs
    for bound, name in _FREQUENCY_BOUNDS:
        if between <= bound:
            return name
    return "annual"


def plan(seed: int, population_sha256: str, runs: int, days: int, size: int | None) -> SamplePlan:
    """The plan for a population; the size never exceeds the population."""
    frequency = frequency_of(runs, days)
    wanted = SAMPLE_TABLE[frequency][1] if size is None else size
    return SamplePlan(seed, population_sha256, frequency, min(max(wanted, 0), runs), size is not None)


def draw_key(seed: int, population_sha256: str, run_id: str) -> str:
    """A run's draw key (hex): see the module docstring."""
    return hashlib.sha256(f"{seed}:{population_sha256}:{run_id}".encode()).hexdigest()


def draw(sample: SamplePlan, run_ids: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """The sampled ``(position, run id)`` pairs of ``run_ids`` (population order), keeping only
    ``size`` candidates in memory at once. The keys are compared as digests (the same order as
    their hex): the text before the run id is hashed once and copied for each run."""
    if sample.size <= 0:
        return []
    prefix = hashlib.sha256(f"{sample.seed}:{sample.population_sha256}:".encode())
    heap: list[tuple[bytes, int, str]] = []  # a max-heap on the key: each key's bytes complemented
    for position, run_id in run_ids:
        hashed = prefix.copy()
        hashed.update(run_id.encode())
        item = (hashed.digest().translate(_COMPLEMENT), position, run_id)
        if len(heap) < sample.size:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    return sorted((position, run_id) for _, position, run_id in heap)


#: Each byte to 255 minus it: a smaller digest sorts larger.
_COMPLEMENT = bytes(range(255, -1, -1))
