"""The regorus version a run records (and the policy analysis cache is keyed by), read from the
package's ``dist-info`` without importing ``importlib.metadata`` (about 30 ms of every gate), and
the same as ``importlib.metadata`` gives whenever the quick read answers at all."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from affidavit.policy.engines.regorus import _DISTRIBUTIONS, _dist_info_version, regorus_version


def test_the_installed_regorus_version_is_what_importlib_metadata_says() -> None:
    expected = next(v for v in (_version(d) for d in _DISTRIBUTIONS) if v is not None)
    assert _dist_info_version("regorus", _DISTRIBUTIONS) == expected
    assert regorus_version() == expected


def test_a_gate_no_longer_imports_importlib_metadata(tmp_path: Path) -> None:
    """The whole demo gate, in a fresh interpreter: the module is never imported."""
    demo = Path(__file__).resolve().parents[2] / "evidence" / "demo" / "go"
    code = (
        "import sys\nfrom affidavit.cli import run\n"
        f"sys.argv = ['affidavit', 'gate', '--evidence', {str(demo)!r}, '--out', {str(tmp_path / 'out')!r}, "
        "'-q', '--no-record', '--now', '2026-11-20T12:00:00Z', '--replay']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('LOADED' if 'importlib.metadata' in sys.modules else 'NOT LOADED')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip().endswith("NOT LOADED"), done.stderr[-2000:]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path holding a package ``fakepkg``."""
    (tmp_path / "fakepkg").mkdir()
    (tmp_path / "fakepkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return tmp_path


def _dist(site: Path, folder: str, metadata_text: str) -> None:
    (site / folder).mkdir()
    (site / folder / "METADATA").write_text(metadata_text)


@pytest.mark.parametrize(
    ("folders", "expected"),
    [
        ({"fake_dist-1.2.3.dist-info": "Metadata-Version: 2.1\nName: fake-dist\nVersion: 1.2.3\n"}, "1.2.3"),
        ({"Fake.Dist-2.0.dist-info": "Name: Fake.Dist\nVersion: 2.0\n\nName: body text\n"}, "2.0"),
        # two installs of it: which one Python imports from is importlib.metadata's question
        (
            {
                "fake_dist-1.2.3.dist-info": "Name: fake-dist\nVersion: 1.2.3\n",
                "fake_dist-1.2.4.dist-info": "Name: fake-dist\nVersion: 1.2.4\n",
            },
            None,
        ),
        ({"fake_dist-1.2.3.dist-info": "Name: other-dist\nVersion: 1.2.3\n"}, None),  # not its name
        ({"fake_dist-1.2.3.dist-info": "Name: fake-dist\nVersion: 9.9.9\n"}, None),  # folder and file differ
        ({"fake_dist-1.2.3.dist-info": ""}, None),
        ({"unrelated-1.0.dist-info": "Name: unrelated\nVersion: 1.0\n"}, None),
    ],
)
def test_the_quick_read_answers_only_when_it_is_sure(
    site: Path, folders: dict[str, str], expected: str | None
) -> None:
    for folder, text in folders.items():
        _dist(site, folder, text)
    assert _dist_info_version("fakepkg", ("fake-dist",)) == expected


def test_a_dist_info_without_metadata_and_a_module_that_is_no_package_give_none(site: Path) -> None:
    (site / "fake_dist-1.0.dist-info").mkdir()
    assert _dist_info_version("fakepkg", ("fake-dist",)) is None
    (site / "plainmod.py").write_text("")
    importlib.invalidate_caches()
    assert _dist_info_version("plainmod", ("fake-dist",)) is None
    assert _dist_info_version("no_such_module_here", ("fake-dist",)) is None
