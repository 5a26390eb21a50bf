"""Signing a bundle: the keys taken and refused, the signatures real ``openssl`` accepts, and the
in-toto statement with its SLSA Verification Summary Attestation predicate.

Formats checked against their specifications:

* ``SHA256SUMS``: GNU coreutils ``sha256sum`` output, ``<hex>  <name>`` (two spaces: text mode),
  checked here with the real ``sha256sum -c``.
* ECDSA signatures: DER ``ECDSA-Sig-Value`` over the SHA-256 of the file, what
  ``openssl dgst -sha256 -sign`` writes and ``-verify`` reads (openssl-dgst(1)).
* Ed25519: the raw 64-byte signature of RFC 8032 over the message itself; ``openssl pkeyutl
  -verify -rawin`` checks it (openssl-pkeyutl(1): Ed25519 needs ``-rawin``).
* DSSE v1 envelope and PAE (secure-systems-lab/dsse ``envelope.md``, ``protocol.md``), in-toto
  Statement v1 (in-toto/attestation ``spec/v1/statement.md``), SLSA VSA v1
  (slsa-framework/slsa ``docs/spec/v1.0/verification_summary.md``).
* cosign's encrypted private key: PEM type ``ENCRYPTED SIGSTORE PRIVATE KEY`` (``ENCRYPTED COSIGN
  PRIVATE KEY`` before v2), a go-tuf ``encrypted`` envelope of scrypt and a NaCl secretbox
  (sigstore/cosign ``pkg/cosign/keys.go``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from affidavit.bundle.attest import policy_document
from affidavit.bundle.sign import ECDSA_P256, ED25519, load_signing_key, signature_valid
from affidavit.bundle.verify import INVALID, NOT_CHECKED, VERIFIED, verify_bundle
from affidavit.errors import UsageError
from affidavit.model import Outcome
from affidavit.signatures.keys import pae
from tests.bundle.support import RUN_ID, run_judging, sbom_record, signer_and_key, write


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_ecdsa_signed_bundle_checks_with_sha256sum_and_openssl_dgst(tmp_path: Path) -> None:
    """The auditor's commands from the README, with no affidavit: both pass on the bundle as
    written, and openssl refuses SHA256SUMS once one byte of it changes."""
    signer, _, public = signer_and_key(tmp_path / "keys", "p256")
    bundle = write(tmp_path, signer)
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle.path, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    listed = {line.rsplit(": ", 1)[0] for line in sums.stdout.splitlines()}
    on_disk = {p.relative_to(bundle.path).as_posix() for p in bundle.path.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS", "SHA256SUMS.sig"}  # manifest and envelope included
    ok = _openssl(
        "dgst",
        "-sha256",
        "-verify",
        str(public),
        "-signature",
        "SHA256SUMS.sig",
        "SHA256SUMS",
        cwd=bundle.path,
    )
    assert ok.returncode == 0 and "Verified OK" in ok.stdout, ok.stdout + ok.stderr
    sums_file = bundle.path / "SHA256SUMS"
    data = bytearray(sums_file.read_bytes())
    data[10] ^= 0x01
    sums_file.write_bytes(bytes(data))
    bad = _openssl(
        "dgst",
        "-sha256",
        "-verify",
        str(public),
        "-signature",
        "SHA256SUMS.sig",
        "SHA256SUMS",
        cwd=bundle.path,
    )
    assert bad.returncode != 0 and "Verification failure" in bad.stdout + bad.stderr


def test_ed25519_signed_bundle_checks_with_openssl_pkeyutl_rawin(tmp_path: Path) -> None:
    signer, key, public = signer_and_key(tmp_path / "keys", "ed25519")
    assert signer.algorithm == ED25519
    bundle = write(tmp_path, signer)
    args = ["pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin", "-in", "SHA256SUMS"]
    ok = _openssl(*args, "-sigfile", "SHA256SUMS.sig", cwd=bundle.path)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    (bundle.path / "SHA256SUMS.sig").write_bytes(bytes(64))
    bad = _openssl(*args, "-sigfile", "SHA256SUMS.sig", cwd=bundle.path)
    assert bad.returncode != 0
    assert verify_bundle(bundle.path, key).signature == INVALID


def test_openssl_signature_made_outside_affidavit_is_accepted_by_verify(tmp_path: Path) -> None:
    """The other direction of the round trip: a signature ``openssl dgst -sign`` makes over the
    bundle's SHA256SUMS is one affidavit's verifier accepts (the same encoding, DER)."""
    signer, key, _ = signer_and_key(tmp_path / "keys", "p256")
    bundle = write(tmp_path, signer)
    private = tmp_path / "keys" / "key.pem"
    made = _openssl(
        "dgst", "-sha256", "-sign", str(private), "-out", "SHA256SUMS.sig", "SHA256SUMS", cwd=bundle.path
    )
    assert made.returncode == 0, made.stderr
    report = verify_bundle(bundle.path, key)
    assert report.ok and report.signature == VERIFIED, report.problems


def test_signatures_are_deterministic_so_signed_bundles_are_byte_identical(tmp_path: Path) -> None:
    signer, _, _ = signer_and_key(tmp_path / "keys", "p256")
    a, b = write(tmp_path, signer, out="a"), write(tmp_path, signer, out="b")
    files_a = {p.relative_to(a.path): p.read_bytes() for p in a.path.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b.path): p.read_bytes() for p in b.path.rglob("*") if p.is_file()}
    assert files_a == files_b
    assert a.archive.read_bytes() == b.archive.read_bytes()


def test_signing_does_not_change_the_decision_files(tmp_path: Path) -> None:
    """Signing happens after the decision: results.json, the report and the manifest are the same
    bytes signed or not (the run id does not depend on the key)."""
    signer, _, _ = signer_and_key(tmp_path / "keys", "p256")
    signed, unsigned = write(tmp_path, signer, out="signed"), write(tmp_path, out="unsigned")
    assert signed.path.name == unsigned.path.name
    for name in ("results.json", "PRODUCTION_GO_EVIDENCE.md", "manifest.json"):
        assert (signed.path / name).read_bytes() == (unsigned.path / name).read_bytes()
    assert not (unsigned.path / "SHA256SUMS.sig").exists()
    assert (unsigned.path / "SHA256SUMS").exists()  # every bundle lists its files


def test_verify_with_the_right_key_the_wrong_key_and_no_key(tmp_path: Path) -> None:
    signer, key, _ = signer_and_key(tmp_path / "keys", "p256")
    _, other, _ = signer_and_key(tmp_path / "keys", "p256", name="other")
    bundle = write(tmp_path, signer)
    for where in (bundle.path, bundle.archive):
        good = verify_bundle(where, key)
        assert good.ok and good.signature == VERIFIED and good.key_id == signer.key_id
        wrong = verify_bundle(where, other)
        assert not wrong.ok and wrong.signature == INVALID
        assert any("not by --key" in p for p in wrong.problems)
        unchecked = verify_bundle(where)
        assert unchecked.ok and unchecked.signature == NOT_CHECKED and not unchecked.accepted(False)


# --- the statement and its VSA predicate ---------------------------------------------------------


def _statement(folder: Path) -> dict[str, object]:
    lines = (folder / "attestation.intoto.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    envelope = json.loads(lines[0])
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement: dict[str, object] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


@pytest.mark.parametrize(("outcome", "result"), [(Outcome.FAIL, "FAILED"), (Outcome.PASS, "PASSED")])
def test_statement_names_every_file_and_the_artefact_and_carries_the_decision(
    tmp_path: Path, outcome: Outcome, result: str
) -> None:
    signer, key, _ = signer_and_key(tmp_path / "keys", "p256")
    bundle = write(tmp_path, signer, outcome)
    statement = _statement(bundle.path)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    subjects = statement["subject"]
    assert isinstance(subjects, list)
    assert subjects[0] == {"name": "ghcr.io/acme/shop", "digest": {"sha256": "a" * 64}}
    on_disk = {
        p.relative_to(bundle.path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in bundle.path.rglob("*")
        if p.is_file()
    }
    del on_disk["SHA256SUMS"], on_disk["SHA256SUMS.sig"], on_disk["attestation.intoto.jsonl"]
    assert {s["name"]: s["digest"]["sha256"] for s in subjects[1:]} == on_disk
    assert "manifest.json" in on_disk
    predicate = statement["predicate"]
    assert isinstance(predicate, dict)
    assert predicate["verificationResult"] == result
    assert predicate["verifier"]["id"] == "urn:affidavit:gate"
    assert predicate["verifier"]["version"]["affidavit"] == "0.1.0"
    assert predicate["resourceUri"] == f"pkg:oci/shop@sha256%3A{'a' * 64}?repository_url=ghcr.io/acme/shop"
    assert predicate["timeVerified"] == "2026-11-20T12:00:00Z"
    assert predicate["verifiedLevels"] == ([] if result == "PASSED" else ["FAILED"])
    record, _ = sbom_record(tmp_path)
    assert predicate["inputAttestations"] == [
        {
            "name": "in/sbom.json",
            "digest": {"sha256": record.id.split(":", 1)[1]},
            "annotations": {"kind": "sbom", "format": "trivy-json"},
        }
    ]
    run = run_judging(record, outcome)
    policy = predicate["policy"]
    assert policy["annotations"] == policy_document(run)
    recomputed = hashlib.sha256(
        json.dumps(policy["annotations"], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert policy["digest"] == {"sha256": recomputed}
    assert policy["annotations"]["policy_set_sha256"] == "c" * 64
    assert [m["sha256"] for m in policy["annotations"]["matrices"]] == ["e" * 64, "f" * 64]
    assert predicate["urn:affidavit:run"]["run_id"] == RUN_ID
    # the envelope's signature is over the DSSE PAE of exactly this payload
    envelope = json.loads((bundle.path / "attestation.intoto.jsonl").read_bytes())
    payload = base64.b64decode(envelope["payload"])
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    assert envelope["signatures"][0]["keyid"] == signer.key_id
    assert signature_valid(key, signature, pae("application/vnd.in-toto+json", payload))
    assert not signature_valid(key, signature, payload)  # over the PAE, not the bare payload


def test_a_passed_slsa_rule_claims_the_level_rule_data_requires(tmp_path: Path) -> None:
    """verifiedLevels names SLSA_BUILD_LEVEL_n only where supply_chain.slsa_level passed."""
    from dataclasses import replace

    from affidavit.bundle.attest import vsa_predicate

    record, _ = sbom_record(tmp_path)
    run = run_judging(record, Outcome.PASS)
    rule = replace(run.rules[0], id="supply_chain.slsa_level")
    passed = replace(run, rules=(rule,), params={"supply_chain": {"min_slsa_level": 3}})
    assert vsa_predicate(passed)["verifiedLevels"] == ["SLSA_BUILD_LEVEL_3"]
    waived = replace(passed, rules=(replace(rule, outcome=Outcome.WAIVED),))
    assert vsa_predicate(waived)["verifiedLevels"] == []


# --- keys taken and refused ----------------------------------------------------------------------


def test_a_p256_key_in_sec1_form_signs(tmp_path: Path) -> None:
    path = tmp_path / "sec1.pem"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path)], check=True
    )
    assert b"BEGIN EC PRIVATE KEY" in path.read_bytes()
    assert load_signing_key(path).algorithm == ECDSA_P256


def test_an_encrypted_pkcs8_key_needs_cosign_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "enc.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            "pass:s3cret-demo",
            "-out",
            str(path),
        ],
        check=True,
    )
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    with pytest.raises(UsageError, match="is encrypted and COSIGN_PASSWORD is not set"):
        load_signing_key(path)
    monkeypatch.setenv("COSIGN_PASSWORD", "wrong")
    with pytest.raises(
        UsageError, match="cannot be decrypted with the password in COSIGN_PASSWORD"
    ) as caught:
        load_signing_key(path)
    assert "wrong" not in caught.value.diagnostics()
    monkeypatch.setenv("COSIGN_PASSWORD", "s3cret-demo")
    assert load_signing_key(path).algorithm == ED25519


def _cosign_key(
    path: Path, password: str, n: int = 65536, kind: str = "ENCRYPTED SIGSTORE PRIVATE KEY"
) -> Path:
    """A key in the format ``cosign generate-key-pair`` writes, made as cosign makes it: the PKCS#8
    DER of a new P-256 key sealed in a NaCl secretbox under scrypt(password) (go-tuf
    ``encrypted/encrypted.go``: salt 32 bytes, nonce 24, key 32; cosign 2 writes N=65536, older
    ones N=32768), the JSON document base64 in a PEM block. The reader was also checked against
    a key cosign itself generated (sigstore-rs ``tests/data/keys/cosign_generated_encrypted_empty_private.key``,
    empty password); that file is not copied here."""
    import hashlib
    import os

    import nacl.secret
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.DER, PrivateFormat.PKCS8, NoEncryption()
    )
    salt, nonce = os.urandom(32), os.urandom(24)
    box = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=256 << 20, dklen=32)
    sealed = nacl.secret.SecretBox(box).encrypt(der, nonce).ciphertext
    document = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": n, "r": 8, "p": 1},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    body = base64.b64encode(json.dumps(document).encode()).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    path.write_text(f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n")
    return path


@pytest.mark.parametrize(
    ("n", "kind"), [(65536, "ENCRYPTED SIGSTORE PRIVATE KEY"), (32768, "ENCRYPTED COSIGN PRIVATE KEY")]
)
def test_a_cosign_encrypted_key_signs_with_cosign_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, kind: str
) -> None:
    path = _cosign_key(tmp_path / "cosign.key", "correct horse", n, kind)
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    with pytest.raises(UsageError, match="is a cosign encrypted key and COSIGN_PASSWORD is not set"):
        load_signing_key(path)
    monkeypatch.setenv("COSIGN_PASSWORD", "wrong horse")
    with pytest.raises(
        UsageError, match="cannot be decrypted with the password in COSIGN_PASSWORD"
    ) as caught:
        load_signing_key(path)
    assert "horse" not in caught.value.diagnostics()
    monkeypatch.setenv("COSIGN_PASSWORD", "correct horse")
    signer = load_signing_key(path)
    assert signer.algorithm == ECDSA_P256
    bundle = write(tmp_path, signer)
    assert verify_bundle(bundle.path, signer.public).signature == VERIFIED


def test_an_empty_cosign_password_is_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cosign accepts COSIGN_PASSWORD="" (keys made for CI often have none): set and empty is used."""
    path = _cosign_key(tmp_path / "cosign.key", "")
    monkeypatch.setenv("COSIGN_PASSWORD", "")
    assert load_signing_key(path).algorithm == ECDSA_P256


def test_a_cosign_key_forged_to_cost_unbounded_scrypt_work_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scrypt with N=2^24 would take GiBs of memory: only the parameters cosign writes are derived."""
    path = _cosign_key(tmp_path / "cosign.key", "pw")
    document = json.loads(base64.b64decode("".join(path.read_text().splitlines()[1:-1])))
    document["kdf"]["params"]["N"] = 1 << 24
    body = base64.b64encode(json.dumps(document).encode()).decode()
    path.write_text(
        f"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{body}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    with pytest.raises(UsageError, match="scrypt parameters are not ones cosign writes"):
        load_signing_key(path)
    path.write_text(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nnot%base64\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    with pytest.raises(UsageError, match="not a readable cosign encrypted key") as caught:
        load_signing_key(path)
    assert "base64" not in caught.value.diagnostics()


def test_without_pynacl_a_cosign_key_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    path = _cosign_key(tmp_path / "cosign.key", "pw")
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    monkeypatch.setitem(sys.modules, "nacl", None)  # import nacl now raises ImportError
    monkeypatch.setitem(sys.modules, "nacl.secret", None)
    with pytest.raises(UsageError, match="reading it needs PyNaCl .* which is not installed"):
        load_signing_key(path)


@pytest.mark.parametrize(("kind", "message"), [("rsa", "RSAPrivateKey key"), ("p384", "on secp384r1")])
def test_other_key_types_are_refused(tmp_path: Path, kind: str, message: str) -> None:
    from tests.bundle.support import openssl_key

    private, _ = openssl_key(tmp_path, kind)
    with pytest.raises(UsageError, match=f"{message}.*affidavit signs with ECDSA P-256 or Ed25519"):
        load_signing_key(private)


@pytest.mark.parametrize("content", ["public", "junk", "fifo"])
def test_what_is_not_a_private_key_is_refused(tmp_path: Path, content: str) -> None:
    import os

    from tests.bundle.support import openssl_key

    _, public = openssl_key(tmp_path, "p256")
    path = tmp_path / "given.pem"
    if content == "public":
        path.write_bytes(public.read_bytes())
        why = "holds no PEM private key"
    elif content == "junk":
        path.write_text("-----BEGIN PRIVATE KEY-----\nnot base64 at all %%%\n-----END PRIVATE KEY-----\n")
        why = "is not a readable PEM private key"
    else:
        os.mkfifo(path)  # must not block the gate
        why = "not a regular file"
    with pytest.raises(UsageError, match=why) as caught:
        load_signing_key(path)
    assert "%%%" not in caught.value.diagnostics()


def test_gate_refuses_a_bad_sign_key_before_judging_anything(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from affidavit.cli import main

    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    result = CliRunner().invoke(
        main, ["gate", "--evidence", str(tmp_path), "--out", str(tmp_path / "out"), "--sign-key", str(bad)]
    )
    assert result.exit_code == 2, result.output
    assert "--sign-key holds no PEM private key" in result.stderr
    assert not (tmp_path / "out").exists()
