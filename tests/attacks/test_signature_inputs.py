"""Attacks through the files a signature check is given: --key, --trusted-root, --artifact, and
the detached --signature / --payload of a cosign simple-signing check.

Issue 9 ("costs are bounded"): each was read whole with ``Path.read_bytes`` (or, for the
artefact, hashed to its end) without looking at what it was, so ``--key /dev/zero`` or
``--trusted-root /dev/zero`` read zeros until memory ran out. A key file (64 KiB), a trusted root
(4 MiB) and a detached signature or payload (4 MiB) are now read with
``artefact.read_user_file``: refused from ``stat`` before they are opened unless they are a
regular file within the limit. The artefact is hashed as a stream (no size limit), but only when
it is a regular file.

The CLI attacks run in a child process, so that a hang is stopped by its timeout and fails the
test instead of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import CollectOptions, collect_document
from affidavit.errors import InputError
from affidavit.signatures.keys import MAX_KEY_BYTES, load_public_key
from affidavit.signatures.result import file_digest
from tests.conftest import CORPUS, NOW

SIGSTORE = CORPUS / "sigstore"
#: a cosign signature manifest (``cosign download signature``), verified with --key
COSIGN_MANIFEST = SIGSTORE / "conforma-cli-cosign-signature-manifest.json"
#: a cosign attestation (a DSSE envelope, ``cosign download attestation``), verified with --key
ATTESTATION = SIGSTORE / "conforma-cli-cosign-attestation-dsse.json"
#: a cosign simple-signing payload, verified with --key and a detached --signature
PAYLOAD = SIGSTORE / "conforma-cli-cosign-simplesigning-payload.json"
#: a Sigstore bundle (sigstore-python's test data) and the file it signs
BUNDLE = SIGSTORE / "sigstore-python-bundle.txt.sigstore"
SIGNED = SIGSTORE / "sigstore-python-bundle.txt"

FAST = 10.0  # a refusal comes at once; the attacks ran until they were killed
TIMEOUT = 60.0


def _collect_process(*args: str) -> tuple[int, str, float]:
    """``affidavit collect`` in a child process: exit code, stderr, seconds taken."""
    command = [sys.executable, "-m", "affidavit", "collect", "--now", NOW, *args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        pytest.fail(f"affidavit collect {' '.join(args)} was still running after {TIMEOUT:.0f} s")
    return done.returncode, done.stderr, time.monotonic() - started


def test_key_from_dev_zero_is_refused_at_once() -> None:
    code, stderr, took = _collect_process("--key", "/dev/zero", str(ATTESTATION))
    assert code == 3, stderr
    assert took < FAST
    assert "/dev/zero: the public key cannot be read: it is a character device, not a regular file" in stderr


def test_trusted_root_from_dev_zero_is_refused_at_once() -> None:
    code, stderr, took = _collect_process(
        "--trusted-root", "/dev/zero", "--artifact", str(SIGNED), str(BUNDLE)
    )
    assert code == 3, stderr
    assert took < FAST
    assert "/dev/zero: the trusted root is a character device, not a regular file" in stderr


def test_artifact_from_dev_zero_is_refused_at_once() -> None:
    code, stderr, took = _collect_process("--artifact", "/dev/zero", str(BUNDLE))
    assert code == 3, stderr
    assert took < FAST
    assert "/dev/zero: the artefact is a character device, not a regular file" in stderr


def test_oversized_key_file_is_refused_unread(tmp_path: Path) -> None:
    key = tmp_path / "big.pub"
    key.write_bytes(b"-----BEGIN PUBLIC KEY-----\n" + b"A" * MAX_KEY_BYTES)
    with pytest.raises(
        InputError, match=r"the public key cannot be read: it is larger than the 64 KiB"
    ) as caught:
        load_public_key(key)
    assert "AAAA" not in caught.value.diagnostics()


def test_artifact_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "artifact"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"the artefact is a named pipe \(FIFO\), not a regular file"):
        file_digest(fifo)


@pytest.mark.parametrize("option", ["signature", "payload"])
def test_detached_signature_and_payload_from_dev_zero_are_refused(option: str) -> None:
    """``--signature`` (beside a payload) and ``--payload`` (beside a manifest) are read bounded."""
    document = PAYLOAD if option == "signature" else COSIGN_MANIFEST
    options = CollectOptions(now=NOW, **{option: Path("/dev/zero")})  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(
        InputError, match=rf"/dev/zero: the {option} is a character device, not a regular file"
    ):
        collect_document(Artefact(document.name, document.read_bytes()), options)
    assert time.monotonic() - started < FAST


@pytest.mark.parametrize("option", ["signature", "payload"])
def test_oversized_detached_file_is_refused(option: str, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    document = PAYLOAD if option == "signature" else COSIGN_MANIFEST
    options = CollectOptions(now=NOW, **{option: big})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=rf"the {option} is larger than the 4 MiB"):
        collect_document(Artefact(document.name, document.read_bytes()), options)
