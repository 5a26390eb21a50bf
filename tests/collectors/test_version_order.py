"""Each ecosystem's version order (``kinds.vulnerability.newer_fixes``) is univers' order, with
only the implementation of that ecosystem imported.

The reference is ``newer_fixes`` as it was before the per-ecosystem builders: every version through
the class of ``univers.versions`` (all of univers imported). Every pair of a hostile list per
ecosystem (valid versions, near misses, text that is no version at all, over-long text) must give
the same answer: newer, not newer, or unknown.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from affidavit.collectors.kinds import vulnerability
from affidavit.collectors.kinds.vulnerability import newer_fixes

#: The univers class of each ecosystem, as the previous code named them.
CLASSES = {
    "pypi": "PypiVersion",
    "npm": "SemverVersion",
    "cargo": "SemverVersion",
    "deb": "DebianVersion",
    "rpm": "RpmVersion",
    "apk": "AlpineLinuxVersion",
    "maven": "MavenVersion",
    "golang": "GolangVersion",
    "gem": "RubygemsVersion",
    "nuget": "NugetVersion",
    "composer": "ComposerVersion",
    "conan": "ConanVersion",
}

#: Text that is no version in any ecosystem, or nearly one.
ODD = ["", " ", "v", "vV", "latest", "*", "1..2", ".1", "1.", "\u0661.\u0662", "１.２", "1" * 130, "1 .2 .3"]

VERSIONS: dict[str, list[str]] = {
    "pypi": [
        "2.2.3", "2.2.4", "2.2.3.0", "2.2", "0", "00", "01.2", "1.02", " 2.2.4 ", "v2.2.4", "V2.2.4",
        "2.2.4rc1", "2.2.4.post1", "2.2.4.dev0", "1!1.0", "2.2.4+local", "2.2.4+local.2", "1.0a1",
        "1.0.0-1", "1.0_post1", "9" * 19, "2.10.1", "2.9.0",
    ],
    "npm": [
        "1.2.3", "v1.2.4", "1.2.3-alpha", "1.2.3-alpha.1", "1.2.3-beta", "1.2.3+build1", "1.2.3+build2",
        "1.2", "1", "01.2.3", "4.17.21", "4.17.9", "1.2.3.4", "=1.2.3", "^1.2.3",
    ],
    "golang": [
        "v1.20.1", "1.20.12", "v1.21.5", "v0.0.0-20231010120000-abcdef123456",
        "v0.0.0-20240101000000-0123456789ab", "v2.0.0+incompatible", "v1.2.3-rc.1", "v1.2",
    ],
    "composer": ["1.2.3", "v1.2.4", "1.2.3-RC1", "1.2.3-beta2", "dev-main", "2.0"],
    "deb": [
        "2.36-9+deb12u9", "2.36-9+deb12u10", "1:2.0-1", "3.0-1", "2.0~rc1-1", "2.0-1", "2.0-1ubuntu0.1",
        "0:2.0-1", "1.2.3", "a1.0", "1.0-", "1:", "1.0+dfsg-2", "2.0~~", "2.0~",
    ],
    "rpm": ["1:2.3-4.el9", "1:2.3-5.el9", "2.3-4.el9", "2.3-4.el9_1", "2.3~rc1-1", "2.3^post1-1", "3.0", "a"],
    "apk": ["1.2.3-r0", "1.2.3-r1", "1.2.4_rc1-r0", "1.2.4-r0", "006", "02-r1", "1.2.3_p1-r0", "1.2a-r0"],
    "maven": [
        "17.0.10", "11.0.22", "17.0.11", "21.0.2", "1.2.3", "1.0-SNAPSHOT", "1.0", "1.0-alpha-1", "1.0-rc1",
        "1.0.RELEASE", "1.0-sp1", "1-1", "2.0.0.Final",
    ],
    "gem": ["5.0.0.1", "5.0.0", "5.0.0.rc1", "1.2.3.pre", "1.2.3-1", "1.10", "1.9", "0.0.1a"],
    "nuget": ["1.2.3", "1.2.3.4", "1.2.3-beta", "1.2.3-beta.2", "1.2.3+meta", "1.2", "01.2.3", "1.2.3.0"],
    "cargo": ["0.1.0", "0.1.1", "0.2.0-alpha.1", "1.0.0", "1.0.0+abc"],
    "conan": ["1.2.3", "1.2.3-pre", "1.2.3+build", "1.2", "1.2.3.4", "1.2.3-pre.1"],
}  # fmt: skip


def univers_version(ecosystem: str, text: str) -> Any:
    """The previous ``_version``: the univers class, with its npm/cargo retry without a 'v'."""
    import univers.versions

    if ecosystem not in CLASSES or not text or len(text) > 128:
        return None
    cls = getattr(univers.versions, CLASSES[ecosystem])
    for candidate in (text, text[1:] if text[:1] in "vV" and ecosystem in ("npm", "cargo") else None):
        if candidate is None:
            continue
        try:
            return cls(candidate)
        except Exception:  # noqa: BLE001
            continue
    return None


def univers_newer(ecosystem: str, installed: str, fixed: list[str]) -> list[str] | None:
    """The previous ``newer_fixes`` with every version through univers."""
    if not fixed:
        return []
    have = univers_version(ecosystem, installed.strip())
    if have is None:
        return None
    newer = []
    for text in fixed:
        candidate = univers_version(ecosystem, text.strip())
        if candidate is None:
            return None
        try:
            if candidate > have:
                newer.append(text)
        except Exception:  # noqa: BLE001
            return None
    return newer


def test_every_ecosystem_univers_orders_is_covered() -> None:
    assert set(VERSIONS) == set(CLASSES) == set(vulnerability._BUILDERS)


@pytest.mark.parametrize("ecosystem", sorted(VERSIONS))
def test_every_pair_is_ordered_as_univers_orders_it(ecosystem: str) -> None:
    """Hostile: each pair of versions (and odd text) gives univers' answer, one fix at a time and
    all at once; at least one pair is newer and one is not (the list tests an order)."""
    texts = VERSIONS[ecosystem] + ODD
    answers = set()
    for installed in texts:
        for fixed in texts:
            expected = univers_newer(ecosystem, installed, [fixed])
            assert newer_fixes(ecosystem, installed, [fixed]) == expected, (installed, fixed)
            answers.add(None if expected is None else bool(expected))
        assert newer_fixes(ecosystem, installed, texts) == univers_newer(ecosystem, installed, texts)
        valid = VERSIONS[ecosystem]
        assert newer_fixes(ecosystem, installed, valid) == univers_newer(ecosystem, installed, valid)
    assert {True, False} <= answers, answers


def _fresh(code: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_only_the_ecosystem_met_is_imported() -> None:
    """A fresh process each: a PyPI comparison imports packaging's PEP 440 and nothing of univers;
    a Debian one imports univers.debian but not univers.versions (every ecosystem at once) nor
    another ecosystem's implementation."""
    probe = (
        "import sys, json\n"
        "from affidavit.collectors.kinds.vulnerability import newer_fixes\n"
        "before = sorted(m for m in sys.modules if m.startswith(('univers', 'packaging', 'semantic_version')))\n"
        "answer = newer_fixes({eco!r}, {have!r}, [{fix!r}])\n"
        "after = sorted(m for m in sys.modules if m.startswith(('univers', 'packaging', 'semantic_version')))\n"
        "print(json.dumps([before, after, answer]))\n"
    )
    before, after, answer = _fresh(probe.format(eco="pypi", have="2.2.3", fix="2.2.4rc1"))
    assert before == [] and answer == ["2.2.4rc1"]
    assert "packaging.version" in after and not [m for m in after if m.startswith("univers")]
    before, after, answer = _fresh(probe.format(eco="deb", have="2.36-9+deb12u9", fix="2.36-9+deb12u10"))
    assert before == [] and answer == ["2.36-9+deb12u10"]
    assert "univers.debian" in after
    assert not {"univers.versions", "univers.nuget", "univers.maven", "semantic_version"} & set(after), after
