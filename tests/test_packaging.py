"""The install is locked and honest, and the CI integrations are what their platforms accept.

- The lock files (``requirements/*.txt``) pin every package with hashes, and lock every
  requirement ``pyproject.toml`` declares at a version it allows.
- affidavit is installed into a fresh virtual environment from the lock by the GitHub Action's own
  script, with nothing of the checkout on ``sys.path``; a wheel built there with the locked build
  backend ships the licence and the metadata, and runs the demo gate (GO exits 0, NO-GO exits 1).
- The private sigstore-python names affidavit relies on still exist (``sigstore<5`` lets a new
  minor in: such a release must fail this test, not a gate).
- ``cryptography>=43.0.0`` is the real floor: affidavit's key code runs on 43.0.0 and not on 42.0.8.
- ``action.yml`` and the documented workflow pass actionlint and zizmor; the GitLab template has
  the keys GitLab requires.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

REQUIREMENTS = REPO / "requirements"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent


# --- the lock files ------------------------------------------------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def parse_lock(text: str, name: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """A pip requirements file written with ``--generate-hashes``: name -> (version, marker, hashes).

    Every requirement must be pinned with ``==`` and carry at least one sha256; anything else is
    an ``AssertionError`` naming the file and the line number (never the line's text).
    """
    pins: dict[str, tuple[str, str | None, list[str]]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("--hash") else raw.strip()
        if not line:
            continue
        if line.startswith("--hash="):
            assert current is not None, f"{name}:{number}: a hash outside a requirement"
            digest = line.removeprefix("--hash=sha256:").rstrip(" \\")
            assert re.fullmatch(r"[0-9a-f]{64}", digest), f"{name}:{number}: not a sha256 hash"
            pins[current][2].append(digest)
            continue
        assert not line.startswith("-"), f"{name}:{number}: an option in a lock file"
        match = _PIN.match(line)
        assert match, f"{name}:{number}: not a requirement pinned with =="
        current = canonicalize_name(match.group(1))
        assert current not in pins, f"{name}:{number}: {current} is pinned twice"
        pins[current] = (match.group(3), match.group(4), [])
    for package, (_, _, hashes) in pins.items():
        assert hashes, f"{name}: {package} has no hash"
    return pins


def lock(name: str) -> dict[str, tuple[str, str | None, list[str]]]:
    """One of the repository's lock files, parsed."""
    return parse_lock((REQUIREMENTS / name).read_text(encoding="utf-8"), name)


def unlocked(requirements: list[str], pins: dict[str, tuple[str, str | None, list[str]]]) -> list[str]:
    """The requirements (for Linux, CPython 3.11) that ``pins`` lacks or pins at a version they refuse."""
    env = default_environment() | {"python_version": "3.11", "sys_platform": "linux", "extra": ""}
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not locked")
        elif not requirement.specifier.contains(pinned[0], prereleases=True):
            problems.append(f"{requirement.name} is locked at {pinned[0]}, outside {requirement.specifier}")
    return problems


def test_lock_parser_refuses_what_pip_would_not_check() -> None:
    """Hostile first: a lock that pip's ``--require-hashes`` mode would refuse, or that pins
    nothing, must not pass as a lock (pip: "Hashes are required in --require-hashes mode, but
    they are missing"; "...only work with pinned requirements (==)")."""
    good = "click==8.1.7 \\\n    --hash=sha256:" + "a" * 64 + "\n"
    assert parse_lock(good, "good.txt") == {"click": ("8.1.7", None, ["a" * 64])}
    for bad, reason in (
        ("click==8.1.7\n", "has no hash"),
        ("click>=8.1 \\\n    --hash=sha256:" + "a" * 64 + "\n", "not a requirement pinned"),
        ("click==8.1.7 \\\n    --hash=sha256:abc\n", "not a sha256"),
        ("--extra-index-url https://example.invalid/simple\n", "an option in a lock file"),
        (good + good, "pinned twice"),
    ):
        with pytest.raises(AssertionError, match=reason):
            parse_lock(bad, "bad.txt")
    assert unlocked(["click>=9"], parse_lock(good, "good.txt")) == ["click is locked at 8.1.7, outside >=9"]
    assert unlocked(["rich"], parse_lock(good, "good.txt")) == ["rich is not locked"]


def test_every_declared_requirement_is_locked() -> None:
    """``make lock`` was run after the last change to the dependencies: the runtime lock holds the
    runtime requirements, the dev lock those and the ``dev`` extra, at
    the same versions, and the build lock the build backend ``[build-system]`` asks for."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    runtime, dev, build = lock("runtime.txt"), lock("dev.txt"), lock("build.txt")
    assert unlocked(project["dependencies"], runtime) == []
    assert unlocked(project["dependencies"] + extras["dev"], dev) == []
    assert unlocked(PYPROJECT["build-system"]["requires"], build) == []
    assert {name: pin[0] for name, pin in runtime.items()} == {name: dev[name][0] for name in runtime}
    assert not set(runtime) & {"pytest", "mypy", "ruff", "zizmor", "compliance-trestle"}


def test_the_rego_engine_and_opa_are_pinned_by_hash() -> None:
    """The Rego engine (a fork on the package index) is pinned by version and hash; OPA's bindings,
    installed apart with ``--ignore-requires-python``, by hash too."""
    assert lock("runtime.txt")["gordon-to-regorus"][0] == "0.13.0"
    opa = lock("opa.txt")
    assert list(opa) == ["opa-golib-python-bindings"] and len(opa["opa-golib-python-bindings"][2]) >= 1


def third_party_imports(root: Path) -> dict[str, str]:
    """Top-level modules imported anywhere under ``root`` (by an import statement or by a call
    naming the module) that are neither the standard library nor affidavit, each with one file
    importing it."""
    import ast

    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"__import__", "_module", "import_module"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                # A lazy import by name (kinds/vulnerability.py imports each ecosystem's
                # version module when a run first meets it).
                names = [node.args[0].value]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "affidavit":
                    found.setdefault(top, str(path.relative_to(REPO)))
    return found


#: Imported by optional code that says how to install it (policy/engines/opa.py: requirements/opa.txt).
_OPTIONAL_IMPORTS = {"opa_bindings"}


def test_every_import_is_declared_and_every_dependency_used() -> None:
    """What the code imports is what pyproject.toml declares: a module imported from a package
    that only arrives through another one (lark came with python-hcl2) is a finding, and so is a
    declared dependency nothing imports; no extra exists without code behind it (the ``regopy``
    and ``opa-server`` extras had none)."""
    from importlib.metadata import packages_distributions

    assert set(PYPROJECT["project"]["optional-dependencies"]) == {"dev"}
    declared = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    providers = packages_distributions()
    imports = third_party_imports(REPO / "src")
    undeclared = {
        module: where
        for module, where in imports.items()
        if module not in _OPTIONAL_IMPORTS
        and not {canonicalize_name(d) for d in providers.get(module, [module])} & declared
    }
    assert undeclared == {}
    used = {canonicalize_name(d) for module in imports for d in providers.get(module, [])}
    used |= {"psycopg-binary"} & declared  # psycopg[binary]: the C build psycopg loads itself
    assert declared - used == set()


# --- sigstore's private names and cryptography's floor -------------------------------------------


def _sigstore_private_names() -> list[tuple[str, str, tuple[str, ...] | None]]:
    """(module, dotted attribute, parameter names or None) for each private name affidavit uses
    (src/affidavit/signatures/sigstore.py and trust.py)."""
    return [
        ("sigstore._internal.timestamp", "TimestampSource.TRANSPARENCY_SERVICE", None),
        ("sigstore._internal.timestamp", "TimestampVerificationResult", None),
        ("sigstore._internal.trust", "KeyringPurpose.VERIFY", None),
        ("sigstore.verify", "Verifier._establish_time", ("self", "bundle")),
        ("sigstore.verify", "Verifier._verify_timestamp_authority", ("self", "bundle")),
        ("sigstore.verify", "Verifier._verify_common_signing_cert", ("self", "bundle", "policy")),
        ("sigstore.models", "TransparencyLogEntry._verify", ("self", "keyring")),
        ("sigstore.models", "TrustedRoot.rekor_keyring", ("self", "purpose")),
        ("sigstore.models", "TrustedRoot.get_timestamp_authorities", ("self",)),
        ("cyclonedx.schema._res", "SPDX_JSON", None),
    ]


def missing_names(names: list[tuple[str, str, tuple[str, ...] | None]]) -> list[str]:
    """The entries of ``names`` that cannot be imported, or whose parameters changed."""
    import importlib

    missing = []
    for module_name, dotted, params in names:
        try:
            target: Any = importlib.import_module(module_name)
            for part in dotted.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{dotted}")
            continue
        if params is not None and tuple(inspect.signature(target).parameters) != params:
            missing.append(f"{module_name}.{dotted}{inspect.signature(target)}")
    return missing


def test_sigstore_private_names_still_exist(corpus_dir: Path) -> None:
    """A sigstore-python release within ``<5`` that moves a private name affidavit uses fails here.

    Checked: the names and their parameters, that ``Verifier`` keeps its trust root in
    ``_trusted_root``, that a real bundle's log entry keeps the protobuf model in ``_inner``
    (sigstore-python's own test bundle, from the corpus), and the embedded trust root's path.
    """
    from importlib import resources

    from packaging.version import Version

    assert missing_names([("sigstore.verify", "Verifier._no_such_hook", None)]) == [
        "sigstore.verify.Verifier._no_such_hook"
    ]
    (changed,) = missing_names([("sigstore.verify", "Verifier._establish_time", ("self",))])
    assert changed.startswith("sigstore.verify.Verifier._establish_time(self, bundle")
    assert missing_names(_sigstore_private_names()) == []

    import sigstore
    from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
    from sigstore.models import Bundle
    from sigstore.verify import Verifier

    from affidavit.signatures import trust

    declared = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("sigstore>="))
    assert Requirement(declared).specifier.contains(sigstore.__version__)
    assert Version(sigstore.__version__).major == 4
    root = trust.load_trusted_root(None)
    assert Verifier(trusted_root=root.root)._trusted_root is root.root
    raw = (corpus_dir / "sigstore/sigstore-python-bundle_v3.txt.sigstore").read_text(encoding="utf-8")
    assert Bundle.from_json(raw).log_entry._inner.integrated_time > 0
    TimestampVerificationResult(source=TimestampSource.TRANSPARENCY_SERVICE, time=root_time())
    assert resources.files("sigstore._store").joinpath(trust._EMBEDDED_DIR, "trusted_root.json").is_file()


def root_time() -> Any:
    """A timezone-aware moment (what ``TimestampVerificationResult`` takes)."""
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


_KEY_CODE = """
import datetime as dt, pathlib, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from affidavit.bundle.sign import load_signing_key, signature_valid
from affidavit.policy.engines.extensions import _certificate_json
from affidavit.signatures import identity, keys

folder = pathlib.Path(sys.argv[1])
for name, key in (("ec.pem", ec.generate_private_key(ec.SECP256R1())), ("ed.pem", ed25519.Ed25519PrivateKey.generate())):
    path = folder / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    signer = load_signing_key(path)
    assert signer.sign(b"bundle") == signer.sign(b"bundle")  # deterministic (RFC 6979 for ECDSA)
    assert signature_valid(signer.public, signer.sign(b"bundle"), b"bundle")
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
assert keys.verify_data(rsa_key.public_key(), rsa_key.sign(b"x", pss, hashes.SHA256()), b"x") is None
ca = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "floor")])
now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ca.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier("https://ci.example/wf")]),
                       critical=False)
        .sign(ca, hashes.SHA256()))
assert identity.certificate_identity(cert)[0] == ["https://ci.example/wf"]
assert _certificate_json(cert.public_bytes(serialization.Encoding.DER))["NotBefore"].startswith("2026-01-01")
print("key code ok")
"""


@pytest.mark.slow
@pytest.mark.parametrize(("version", "works"), [("43.0.0", True), ("42.0.8", False)])
def test_cryptography_floor(version: str, works: bool, tmp_path: Path) -> None:
    """affidavit's own key code (bundle signing, signature checks, certificate identity, the
    x509 built-in) runs on the declared floor, 43.0.0, and not on 42.0.8, whose ``ec.ECDSA`` has
    no ``deterministic_signing`` (cryptography's changelog, 43.0.0: "Added support for
    deterministic ECDSA (RFC 6979)"). Only cryptography and PyYAML are installed; the
    checkout's ``src`` is put on the path, since sigstore 4.5 itself requires a newer
    cryptography and could not be installed beside 42 or 43."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"cryptography=={version}", "pyyaml"], check=True, capture_output=True, timeout=600)
    result = subprocess.run(
        [str(python), "-c", _KEY_CODE, str(tmp_path)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "src"), "HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=300,
    )
    if works:
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "key code ok"
    else:
        assert result.returncode != 0
        assert "deterministic_signing" in result.stderr


# --- a fresh virtual environment from the lock, by the Action's own script -----------------------


def action() -> dict[str, Any]:
    """action.yml, parsed."""
    doc: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return doc


def action_script() -> str:
    """The shell script of the Action's gate step."""
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "gate"]
    script: str = step["run"]
    return script


def clean_env(home: Path) -> dict[str, str]:
    """An environment without the checkout on any path and without the developer's settings."""
    keep = ("PATH", "LANG", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_FIND_LINKS", "SSL_CERT_FILE")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(REPO))
    )
    env["HOME"] = str(home)
    env["PYTHONHASHSEED"] = "0"
    return env


def run_action(
    runner: Path, inputs: dict[str, str], *, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the gate step as GitHub runs it (bash -e -o pipefail, the inputs in ``env:``); its
    exit code, printed text and ``GITHUB_OUTPUT`` lines."""
    runner.mkdir(exist_ok=True)
    script = runner / "gate-step.sh"
    script.write_text(action_script(), encoding="utf-8")
    output, summary = runner / "github_output", runner / "step_summary"
    output.write_text("", encoding="utf-8")
    env = clean_env(runner / "home") | {
        "ACTION_PATH": str(REPO),
        "AFFIDAVIT_PYTHON": getattr(sys, "_base_executable", sys.executable),
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
        "AFFIDAVIT_STORE": f"sqlite:///{runner / 'history.db'}",
    }
    defaults = {"IN_ENVIRONMENT": "prod", "IN_SUBJECT": "", "IN_COMMIT": "", "IN_BRANCH": ""}
    defaults |= {"IN_CONFIG": "", "IN_PROFILE": "", "IN_SIGN_KEY": "", "IN_OUT": ""}
    env |= defaults | inputs | (extra or {})
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=runner,
        timeout=1200,
    )
    return {
        "code": result.returncode,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "output": output.read_text(encoding="utf-8"),
        "outputs": github_outputs(output.read_text(encoding="utf-8")),
        "summary": summary.read_text(encoding="utf-8") if summary.exists() else "",
    }


def github_outputs(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT`` as the runner reads it: ``name=value`` and ``name<<DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, mark = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == mark:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh virtual environment made by the Action's script from the lock, and its first run:
    the demo's GO evidence, judged at the clock (no ``--replay``, as a pipeline runs it), signed
    with the demo key given as the key's text (as from a secret)."""
    runner = tmp_path_factory.mktemp("runner")
    key = (REPO / "evidence/demo/demo-only-bundle-key.pem").read_text(encoding="utf-8")
    subject = (
        "ghcr.io/acme/shop@" + (REPO / "evidence/demo/SUBJECT_DIGEST").read_text(encoding="utf-8").strip()
    )
    first = run_action(
        runner,
        {"IN_EVIDENCE": f"{REPO / 'evidence/demo/go'}\n", "IN_SUBJECT": subject, "IN_SIGN_KEY": key},
    )
    return {"runner": runner, "venv": runner / "affidavit-venv", "first": first, "key": key}


@pytest.mark.slow
def test_action_installs_from_the_lock_without_the_checkout(installed: dict[str, Any]) -> None:
    """The venv holds exactly the runtime lock (versions and nothing more than affidavit, its
    build backend and pip), passes ``pip check``, and imports affidavit from its own
    site-packages with the checkout nowhere on ``sys.path``."""
    python = installed["venv"] / "bin" / "python"
    env = clean_env(installed["runner"] / "home")
    code = "import affidavit, json, sys; print(json.dumps([affidavit.__file__, sys.path]))"
    where, path = json.loads(
        subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, env=env, cwd="/", check=True
        ).stdout
    )
    assert where.startswith(str(installed["venv"])) and "site-packages" in where
    assert not any(p.startswith(str(REPO)) for p in path)
    freeze = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    versions = {canonicalize_name(p["name"]): p["version"] for p in json.loads(freeze.stdout)}
    runtime, build = lock("runtime.txt"), lock("build.txt")
    for name, (version, marker, _) in runtime.items():
        if marker is None or "win32" not in marker:
            assert versions.get(name) == version, name
    assert set(versions) - set(runtime) - set(build) == {"affidavit", "pip"} | (
        {"setuptools"} & set(versions)
    )
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout


@pytest.mark.slow
def test_action_outputs_and_the_key_never_shown(installed: dict[str, Any]) -> None:
    """The gate step's outputs agree with the bundle it wrote; the exit code is the gate's; the
    summary is the gate's own; the bundle is signed by the key given as text, that text appears
    in no output and the temporary key file is gone; the bundle verifies."""
    first, runner = installed["first"], installed["runner"]
    outputs = first["outputs"]
    assert first["code"] == int(outputs["exit-code"]) and first["code"] in (0, 1, 3), first["stderr"][-2000:]
    bundle = Path(outputs["bundle"])
    results = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    assert (
        outputs["decision"] == results["decision"] and outputs["run-id"] == results["run_id"] == bundle.name
    )
    assert {"GO": 0, "NO-GO": 1, "INCOMPLETE": 3}[results["decision"]] == first["code"]
    assert (
        Path(outputs["archive"]).is_file()
        and Path(outputs["sarif"]).is_file()
        and Path(outputs["junit"]).is_file()
    )
    assert results["run_id"] in first["summary"]
    key_lines = [line for line in installed["key"].splitlines() if len(line) > 20]
    for text in (first["stdout"], first["stderr"], first["output"], first["summary"]):
        assert not any(line in text for line in key_lines)
    assert not list(runner.glob("affidavit-sign-key.*"))
    verify = subprocess.run(
        [
            str(installed["venv"] / "bin/affidavit"),
            "verify",
            str(bundle),
            "--key",
            str(REPO / "evidence/demo/demo-only-bundle-key.pub"),
        ],
        capture_output=True,
        text=True,
        env=clean_env(runner / "home"),
        cwd=runner,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "unsigned" not in verify.stdout.lower()


@pytest.mark.slow
def test_action_refuses_bad_inputs_without_echoing_them(installed: dict[str, Any]) -> None:
    """Hostile inputs (zizmor's template-injection case, and a mangled secret): a subject that is
    shell code is passed to the gate as one argument and refused by it (exit 2), nothing runs; a
    sign-key that is neither a PEM key nor a file stops the step (exit 2) without printing it;
    an empty evidence input is refused."""
    runner = installed["runner"]  # the same RUNNER_TEMP: the venv is reused, not installed again
    marker = runner / "pwned"
    evil = f'x"; touch {marker}; echo "$(touch {marker})'
    out = runner / "hostile"
    go = str(REPO / "evidence/demo/go")
    bad_subject = run_action(runner, {"IN_EVIDENCE": go, "IN_SUBJECT": evil, "IN_OUT": str(out)})
    assert bad_subject["code"] in (1, 2) and not marker.exists()
    if (out / "results.json").exists():  # taken as one (digest-less) name: judged, and NO-GO
        assert json.loads((out / "results.json").read_text(encoding="utf-8"))["subject"]["name"] == evil
    secret = "not-a-key-but-a-secret-4f9c2d7e1b"
    bad_key = run_action(runner, {"IN_EVIDENCE": go, "IN_SIGN_KEY": secret, "IN_OUT": str(out)})
    assert bad_key["code"] == 2
    assert "sign-key is neither a PEM key" in bad_key["stdout"]
    assert secret not in bad_key["stdout"] + bad_key["stderr"] + bad_key["output"]
    no_evidence = run_action(runner, {"IN_EVIDENCE": "\n\n", "IN_OUT": str(out)})
    assert no_evidence["code"] == 2 and "names no path" in no_evidence["stdout"]


@pytest.fixture(scope="module")
def wheel(installed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by the fresh venv's pip with the locked build backend (no build isolation,
    no index), then installed over the Action's install."""
    out = tmp_path_factory.mktemp("wheel")
    python = str(installed["venv"] / "bin" / "python")
    env = clean_env(installed["runner"] / "home")
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [
            *pip,
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    (built,) = out.glob("affidavit-*.whl")
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", "--force-reinstall", str(built)],
        check=True,
        capture_output=True,
        env=env,
    )
    return built


@pytest.mark.slow
def test_wheel_ships_licence_and_metadata(wheel: Path) -> None:
    """The wheel carries the Apache-2.0 text byte for byte, the licence expression, classifiers,
    project URLs and the dependencies declared now (lark among them)."""
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert archive.read(licence) == (REPO / "LICENSE").read_bytes()
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert (
        "Apache License" in text
        and "Version 2.0, January 2004" in text
        and "END OF TERMS AND CONDITIONS" in text
    )
    (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    metadata = archive.read(metadata_name).decode("utf-8")
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Programming Language :: Python :: 3.11" in metadata
    assert re.search(r"^Project-URL: Source, https://", metadata, re.M)
    for requirement in ("lark", "license-expression", "sigstore", "cryptography"):
        assert re.search(rf"^Requires-Dist: {requirement}\b", metadata, re.M), requirement
    assert not any(n.startswith(("tests/", "evidence/", "requirements/")) for n in names)


@pytest.mark.slow
@pytest.mark.parametrize(("release", "expected"), [("go", 0), ("no-go", 1)])
def test_demo_gate_from_the_wheel(
    installed: dict[str, Any], wheel: Path, release: str, expected: int
) -> None:
    """``make demo``'s two gates, run by the installed wheel outside the checkout: GO exits 0,
    NO-GO exits 1, each bundle verifies with the demo's public key."""
    demo = REPO / "evidence/demo"
    runner = installed["runner"]
    out = runner / f"demo-{release}"
    affidavit = str(installed["venv"] / "bin/affidavit")
    subject = "ghcr.io/acme/shop@" + (demo / "SUBJECT_DIGEST").read_text(encoding="utf-8").strip()
    command = [
        affidavit,
        "gate",
        "--environment",
        "prod",
        "--subject",
        subject,
        "--key",
        str(demo / "cosign.pub"),
        "--params",
        str(demo / "params.yaml"),
        "--commit",
        (demo / "COMMIT").read_text(encoding="utf-8").strip(),
        "--now",
        "2026-11-20T12:00:00Z",
        "--replay",
        "--sign-key",
        str(demo / "demo-only-bundle-key.pem"),
        "--evidence",
        str(demo / release),
        "--out",
        str(out),
        "--no-record",
        "--format",
        "json",
    ]
    env = clean_env(runner / "home")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=runner, timeout=600)
    assert result.returncode == expected, result.stderr[-2000:]
    bundle = json.loads(result.stdout)["bundle"]
    verify = subprocess.run(
        [affidavit, "verify", bundle, "--key", str(demo / "demo-only-bundle-key.pub")],
        capture_output=True,
        text=True,
        env=env,
        cwd=runner,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


# --- linting the Action, the documented workflow and the GitLab template -------------------------


def _tool(name: str) -> str:
    """A linter installed from the dev lock, beside the interpreter running the tests."""
    path = BIN / name
    assert path.exists(), f"{name} is missing: install the dev lock (make venv)"
    return str(path)


def documented_workflow() -> str:
    """The release workflow docs/ci.md shows (its first ```yaml block)."""
    text = (REPO / "docs/ci.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(name: release\n.*?)```", text, re.S)
    assert match, "docs/ci.md has no release workflow"
    return match.group(1)


def lint_repo(
    tmp_path: Path, workflow: str, action_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """actionlint over a repository holding ``workflow`` (with affidavit used as ``./``, so that
    actionlint checks the ``with:`` block against this action.yml) and the action."""
    root = tmp_path / "repo"
    shutil.rmtree(root, ignore_errors=True)
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".git").mkdir()  # actionlint finds the repository root (and so ./action.yml) by it
    (root / ".github/workflows/release.yml").write_text(workflow, encoding="utf-8")
    action_yml = action_text if action_text is not None else (REPO / "action.yml").read_text(encoding="utf-8")
    (root / "action.yml").write_text(action_yml, encoding="utf-8")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [_tool("actionlint"), "-no-color", ".github/workflows/release.yml"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=120,
    )


def local_workflow() -> str:
    """The documented workflow with this checkout's action in place of the published one."""
    workflow, count = re.subn(r"uses: acme/affidavit@[0-9a-f]{40} # v1", "uses: ./", documented_workflow())
    assert count == 1
    return workflow


def test_actionlint_catches_a_wrong_input(tmp_path: Path) -> None:
    """Hostile first: actionlint really reads this action.yml (an input it does not define, and
    the required ``evidence`` left out, are errors), and shellcheck runs on ``run:`` steps."""
    typo = lint_repo(tmp_path, local_workflow().replace("evidence: artefacts/", "evidnce: artefacts/"))
    assert typo.returncode == 1
    assert 'input "evidnce" is not defined' in typo.stdout
    assert 'missing input "evidence"' in typo.stdout
    unquoted = local_workflow().replace("run: ./ci/build-and-scan.sh artefacts/", "run: cd $HOME/x && ls")
    assert "shellcheck" in lint_repo(tmp_path, unquoted).stdout


def test_documented_workflow_and_action_pass_actionlint(tmp_path: Path) -> None:
    """The workflow docs/ci.md shows, using this action.yml, has no actionlint finding
    (rhysd/actionlint docs/checks.md: inputs of local actions, expressions, shellcheck)."""
    result = lint_repo(tmp_path, local_workflow())
    assert result.returncode == 0, result.stdout + result.stderr


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor offline (no GitHub API), auditor persona (every finding, the strictest), JSON out."""
    return subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--persona",
            "auditor",
            "--format",
            "json",
            "--no-progress",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_zizmor_catches_template_injection(tmp_path: Path) -> None:
    """Hostile first (zizmor docs, audits: template-injection): the same action with an input
    expanded inside ``run:`` is a finding, so a clean report below means something."""
    bad = (REPO / "action.yml").read_text(encoding="utf-8")
    bad = bad.replace('if [ -n "$IN_SUBJECT" ]', 'if [ -n "${{ inputs.subject }}" ]', 1)
    assert "${{ inputs.subject }}" in bad
    (tmp_path / "action.yml").write_text(bad, encoding="utf-8")
    result = zizmor(tmp_path / "action.yml")
    assert result.returncode != 0
    assert "template-injection" in {f["ident"] for f in json.loads(result.stdout)}


def test_action_and_documented_workflow_pass_zizmor(tmp_path: Path) -> None:
    """No zizmor finding in action.yml or in the documented workflow (pinned uses, no template
    injection, no persisted credentials, no excessive permissions)."""
    workflows = tmp_path / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(documented_workflow(), encoding="utf-8")
    result = zizmor(REPO / "action.yml", workflows / "release.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_action_script_passes_shellcheck(tmp_path: Path) -> None:
    """actionlint does not shellcheck a composite action's steps; the gate step's script and the
    GitLab job's script are checked here directly (bash dialect, as both run them)."""
    gitlab = yaml.safe_load((REPO / "templates/gitlab/affidavit.gitlab-ci.yml").read_text(encoding="utf-8"))
    for name, script in (
        ("action", action_script()),
        ("gitlab", "\n".join(gitlab[".affidavit-gate"]["script"])),
    ):
        path = tmp_path / f"{name}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script, encoding="utf-8")
        result = subprocess.run(
            [_tool("shellcheck"), "--shell=bash", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout


def test_action_inputs_reach_the_shell_only_through_env() -> None:
    """No ``${{ }}`` expression inside any ``run:`` of action.yml; every input the Action declares
    is handed to the gate step through ``env:``; the outputs the Action promises are set."""
    doc = action()
    for step in doc["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
        for ref in re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", json.dumps(step.get("with", {}))):
            assert not ref.startswith("inputs."), ref
    (gate,) = [s for s in doc["runs"]["steps"] if s.get("id") == "gate"]
    passed = {v.strip("${} ").removeprefix("inputs.") for v in gate["env"].values()}
    assert set(doc["inputs"]) <= passed
    for name in doc["outputs"]:
        assert f"{name}=" in action_script() or f'("{name}",' in action_script()
    assert doc["runs"]["using"] == "composite"
    for step in doc["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


# GitLab's pipeline syntax (docs.gitlab.com/ci/yaml, and the editor's JSON schema in
# gitlab-org/gitlab app/assets/javascripts/editor/schema/ci.json): the keywords a job may use, the
# global keywords, what a job must have, and what artifacts and reports accept.
_GITLAB_GLOBAL = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "spec",
    "image",
    "services",
    "cache",
}
_GITLAB_GLOBAL |= {"before_script", "after_script"}
_GITLAB_JOB = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage", "dast_configuration",
    "dependencies", "environment", "extends", "hooks", "id_tokens", "identity", "image", "inherit",
    "interruptible", "manual_confirmation", "needs", "pages", "parallel", "release", "resource_group",
    "retry", "rules", "run", "script", "secrets", "services", "stage", "tags", "timeout", "trigger",
    "variables", "when",
}  # fmt: skip
_GITLAB_ARTIFACTS = {
    "paths",
    "exclude",
    "expose_as",
    "name",
    "untracked",
    "when",
    "access",
    "expire_in",
    "reports",
}


def gitlab_problems(doc: Any) -> list[str]:
    """What GitLab would refuse in a CI file that defines an affidavit job, or what the job lacks
    to put its reports in the merge request."""
    if not isinstance(doc, dict):
        return ["not a mapping"]
    problems = []
    jobs = {k: v for k, v in doc.items() if k not in _GITLAB_GLOBAL}
    for name, job in jobs.items():
        if not isinstance(job, dict):
            problems.append(f"{name}: not a mapping")
            continue
        problems += [f"{name}: unknown keyword {key}" for key in sorted(set(job) - _GITLAB_JOB)]
        merged = dict(job)
        parent = job.get("extends")
        if isinstance(parent, str) and isinstance(doc.get(parent), dict):
            merged = doc[parent] | job
        if not name.startswith(".") and not {"script", "run", "trigger"} & set(merged):
            problems.append(f"{name}: needs script, run or trigger")
        script = merged.get("script")
        if script is not None and not (
            isinstance(script, list) and script and all(isinstance(s, str) for s in script)
        ):
            problems.append(f"{name}: script must be a list of strings")
        if name.startswith("."):
            continue
        artifacts = merged.get("artifacts")
        if not isinstance(artifacts, dict):
            problems.append(f"{name}: no artifacts")
            continue
        problems += [
            f"{name}: unknown artifacts keyword {k}" for k in sorted(set(artifacts) - _GITLAB_ARTIFACTS)
        ]
        if artifacts.get("when") != "always":
            problems.append(f"{name}: artifacts:when is not always (the reports would be lost on NO-GO)")
        reports = artifacts.get("reports")
        for report in ("junit", "codequality"):
            if not isinstance(reports, dict) or not isinstance(reports.get(report), str):
                problems.append(f"{name}: no artifacts:reports:{report}")
    return problems


def test_gitlab_checker_refuses_broken_templates() -> None:
    """Hostile first: a job without a script, with a misspelt keyword, or without the JUnit or
    Code Quality report is refused by the checker, as GitLab's linter refuses the first two."""
    good = yaml.safe_load((REPO / "templates/gitlab/affidavit.gitlab-ci.yml").read_text(encoding="utf-8"))
    assert gitlab_problems(good) == []
    no_script = json.loads(json.dumps(good))
    del no_script[".affidavit-gate"]["script"]
    assert "affidavit-gate: needs script, run or trigger" in gitlab_problems(no_script)
    typo = json.loads(json.dumps(good))
    typo["affidavit-gate"]["artifact"] = {}
    assert "affidavit-gate: unknown keyword artifact" in gitlab_problems(typo)
    no_junit = json.loads(json.dumps(good))
    del no_junit[".affidavit-gate"]["artifacts"]["reports"]["junit"]
    assert gitlab_problems(no_junit) == ["affidavit-gate: no artifacts:reports:junit"]


def test_gitlab_template_runs_the_gate_it_promises() -> None:
    """The template is YAML GitLab accepts, its job writes the two reports where the artifacts
    look for them, and it refuses anything but a full commit of affidavit."""
    text = (REPO / "templates/gitlab/affidavit.gitlab-ci.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert gitlab_problems(doc) == []
    script = "\n".join(doc[".affidavit-gate"]["script"])
    reports = doc[".affidavit-gate"]["artifacts"]["reports"]
    for fmt, path in (("junit", reports["junit"]), ("codequality", reports["codequality"])):
        assert path.startswith("affidavit-reports/") and f'"{fmt}=$out/{path.split("/", 1)[1]}"' in script
    assert "--require-hashes" in script and "^[0-9a-f]{40}$" in script
    assert '--commit "$CI_COMMIT_SHA"' in script
