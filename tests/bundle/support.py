"""What the bundle tests share: a small run over one SBOM record, and keys made by real openssl."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import replace
from pathlib import Path

from affidavit.bundle.sign import Signer, load_signing_key
from affidavit.bundle.write import Bundle, write_bundle
from affidavit.model import Evidence, EvidenceKind, Outcome, Run, Subject, Tool
from affidavit.signatures.keys import PublicKey, load_public_key
from tests.model.runs import sample_run

RUN_ID = "20261120T120000Z-0123456789ab"
SBOM = b'{"bomFormat": "CycloneDX", "components": []}'


def sbom_record(tmp_path: Path, raw: bytes = SBOM) -> tuple[Evidence, Path]:
    """One SBOM artefact on disk and its record (id: the file's sha256)."""
    path = tmp_path / "in" / "sbom.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    record = Evidence(
        id="sha256:" + hashlib.sha256(raw).hexdigest(),
        kind=EvidenceKind.SBOM,
        format="cyclonedx-json",
        format_version="1.5",
        tool=Tool("syft", "1.18.1"),
        subject=Subject(name="ghcr.io/acme/shop", digest="sha256:" + "a" * 64),
        source="in/sbom.json",
        collected_at="2026-11-20T12:00:00Z",
        effective_at=None,
        data={"components": []},
    )
    return record, path


def run_judging(record: Evidence, outcome: Outcome = Outcome.FAIL, run_id: str = RUN_ID) -> Run:
    """The sample run (one rule), judging ``record`` (verify checks that results and manifest agree)."""
    run = sample_run(run_id, outcome)
    judged = replace(run.inputs[0], id=record.id, source=record.source, kind=record.kind.value)
    return replace(run, inputs=(judged,))


def write(
    tmp_path: Path, signer: Signer | None = None, outcome: Outcome = Outcome.FAIL, out: str = "out"
) -> Bundle:
    """A bundle of the sample run under ``tmp_path/out``, signed with ``signer`` when given."""
    record, path = sbom_record(tmp_path)
    return write_bundle(run_judging(record, outcome), [record], {record.id: path}, tmp_path / out, signer)


def openssl_key(folder: Path, kind: str, name: str = "key") -> tuple[Path, Path]:
    """A private key (PEM, PKCS#8) and its public key made by the real ``openssl`` command.

    ``kind``: ``p256``, ``ed25519``, ``p384`` or ``rsa``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    algorithm = {
        "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ed25519": ["-algorithm", "ed25519"],
        "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    }[kind]
    subprocess.run(["openssl", "genpkey", *algorithm, "-out", str(private)], check=True, capture_output=True)
    subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)],
        check=True,
        capture_output=True,
    )
    return private, public


def signer_and_key(folder: Path, kind: str = "p256", name: str = "key") -> tuple[Signer, PublicKey, Path]:
    """A signer, the public key that checks it, and the public key's file."""
    private, public = openssl_key(folder, kind, name)
    loaded = load_public_key(public)
    assert not isinstance(loaded, str), loaded
    return load_signing_key(private), loaded, public
