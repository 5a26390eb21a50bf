"""``affidavit verify`` cannot be fooled: every changed byte, every consistent rewrite, every
missing signature is found, in a folder and in an archive.

The hostile cases come first: how would someone who can write the bundle (a compromised pipeline
step, a reviewer with access to the evidence store) make a NO-GO look like a GO, or slip a file
in, and still have ``verify`` say OK? The DSSE envelope and in-toto statement shapes are those of
secure-systems-lab/dsse ``envelope.md`` and in-toto/attestation ``spec/v1/statement.md``.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from affidavit.bundle.archive import read_bundle_files, tar_gz
from affidavit.bundle.attest import statement
from affidavit.bundle.verify import INVALID, UNSIGNED, VERIFIED, verify_bundle
from affidavit.bundle.write import Bundle, sums_text
from affidavit.cli import main
from affidavit.errors import BundleError
from affidavit.model import Run
from tests.bundle.support import signer_and_key, write

if TYPE_CHECKING:
    from affidavit.bundle.sign import Signer
    from affidavit.signatures.keys import PublicKey


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Bundle, PublicKey, Path, Signer]:
    """A signed NO-GO bundle, the public key that checks it and that key's file."""
    signer, key, public = signer_and_key(tmp_path / "keys", "p256")
    return write(tmp_path, signer), key, public, signer


def _caught(where: Path, key: PublicKey) -> bool:
    """Whether verify refuses ``where``: it cannot read it, or the report is not accepted."""
    try:
        report = verify_bundle(where, key)
    except BundleError:
        return True
    return not report.accepted(allow_unsigned=False)


def _positions(size: int, rng: random.Random) -> list[int]:
    """Byte positions to flip: the first, the last, the middle, and a few others at random."""
    picks = {0, size - 1, size // 2, *(rng.randrange(size) for _ in range(5))}
    return sorted(p for p in picks if 0 <= p < size)


def test_every_single_byte_change_in_every_file_is_found(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    """Each file of a signed bundle (the manifest, SHA256SUMS, its signature and the envelope
    included), one byte flipped at a time at sampled positions: never accepted."""
    bundle, key, _, _ = signed
    assert verify_bundle(bundle.path, key).accepted(False)
    rng = random.Random(11)
    files = sorted(p for p in bundle.path.rglob("*") if p.is_file())
    assert {"manifest.json", "SHA256SUMS", "SHA256SUMS.sig", "attestation.intoto.jsonl"} <= {
        p.name for p in files
    }
    flips = 0
    for path in files:
        original = path.read_bytes()
        for at in _positions(len(original), rng):
            for mask in (0x01, 0x80):
                changed = bytearray(original)
                changed[at] ^= mask
                path.write_bytes(bytes(changed))
                assert _caught(bundle.path, key), (path.name, at, mask)
                flips += 1
        path.write_bytes(original)
    assert flips >= 8 * len(files)
    assert verify_bundle(bundle.path, key).accepted(False)


def test_every_single_byte_change_in_the_archive_is_found(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    """The .tar.gz, one byte flipped at sampled positions (gzip header, deflate data, trailer)."""
    bundle, key, _, _ = signed
    original = bundle.archive.read_bytes()
    rng = random.Random(14)
    for at in [*range(10), *_positions(len(original), rng), *range(len(original) - 8, len(original))]:
        changed = bytearray(original)
        changed[at] ^= 0x04
        if at in (4, 5, 6, 7, 8, 9):
            # gzip header bytes zlib does not check: MTIME, XFL, OS (RFC 1952 section 2.3.1);
            # a changed header there leaves every member's bytes as written
            continue
        bundle.archive.write_bytes(bytes(changed))
        assert _caught(bundle.archive, key), at
    bundle.archive.write_bytes(original)
    assert verify_bundle(bundle.archive, key).accepted(False)


def _rewrite(folder: Path, attacker: Signer | None = None, strip: bool = False) -> None:
    """Turn results.json to GO and rewrite manifest.json, the envelope and SHA256SUMS to match
    (re-signed with the attacker's own key, or with the signatures removed)."""
    files = read_bundle_files(folder)
    results = json.loads(files["results.json"])
    results.update(decision="GO", exit_code=0)
    forged = json.dumps(results, indent=2, sort_keys=True).encode()
    files["results.json"] = forged
    manifest = json.loads(files["manifest.json"])
    manifest["decision"] = "GO"
    manifest["files"]["results.json"] = {"sha256": hashlib.sha256(forged).hexdigest(), "size": len(forged)}
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    heads = ("SHA256SUMS", "SHA256SUMS.sig", "attestation.intoto.jsonl")
    digests = {n: hashlib.sha256(d).hexdigest() for n, d in files.items() if n not in heads}
    if attacker is not None:
        run = Run.from_json(json.loads(forged))
        files["attestation.intoto.jsonl"] = attacker.sign_envelope(statement(run, sorted(digests.items())))
        digests["attestation.intoto.jsonl"] = hashlib.sha256(files["attestation.intoto.jsonl"]).hexdigest()
    elif not strip:
        # keep the honest envelope: its statement still names the old results.json
        digests["attestation.intoto.jsonl"] = hashlib.sha256(files["attestation.intoto.jsonl"]).hexdigest()
    files["SHA256SUMS"] = sums_text(digests)
    if attacker is not None:
        files["SHA256SUMS.sig"] = attacker.sign(files["SHA256SUMS"])
    for name, data in files.items():
        (folder / name).write_bytes(data)
    if strip:
        (folder / "SHA256SUMS.sig").unlink()
        (folder / "attestation.intoto.jsonl").unlink()


def test_a_consistently_rewritten_manifest_and_sums_fail_the_signature(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    bundle, key, _, _ = signed
    _rewrite(bundle.path)
    report = verify_bundle(bundle.path, key)
    assert report.signature == INVALID and not report.accepted(False)
    assert any("SHA256SUMS.sig: is not a valid signature" in p for p in report.problems)
    # without the key, the rewrite's integrity holds, but the honest envelope gives it away
    unchecked = verify_bundle(bundle.path)
    assert any("statement's subjects are not exactly the bundle's files" in p for p in unchecked.problems)
    result = CliRunner().invoke(main, ["verify", str(bundle.path), "--key", str(signed[2])])
    assert result.exit_code == 1 and result.stdout.startswith("BAD SIGNATURE")


def test_a_rewrite_re_signed_with_another_key_is_not_the_signers(
    signed: tuple[Bundle, PublicKey, Path, Signer], tmp_path: Path
) -> None:
    """The attacker rewrites everything and signs it all with a key of their own: the bundle is
    whole and validly signed, but not by --key."""
    bundle, key, _, _ = signed
    attacker, attacker_key, _ = signer_and_key(tmp_path / "attacker", "p256", name="attacker")
    _rewrite(bundle.path, attacker)
    assert verify_bundle(bundle.path, attacker_key).accepted(False)  # the forgery is self-consistent
    report = verify_bundle(bundle.path, key)
    assert not report.accepted(False) and report.signature == INVALID
    assert any(f"signed by key {attacker.key_id}, not by --key" in p for p in report.problems)


def test_stripping_the_signatures_leaves_an_unsigned_bundle_that_key_refuses(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    bundle, key, public, _ = signed
    _rewrite(bundle.path, strip=True)
    assert verify_bundle(bundle.path).ok  # whole, and unsigned
    report = verify_bundle(bundle.path, key)
    assert not report.ok and report.signature == UNSIGNED and not report.accepted(True)
    assert report.problems == ["the bundle is unsigned, so --key cannot check it; its files were not read"]
    result = CliRunner().invoke(main, ["verify", str(bundle.path), "--key", str(public)])
    assert result.exit_code == 1
    assert result.stdout.startswith("UNSIGNED")


def test_one_signature_without_the_other_is_a_problem(signed: tuple[Bundle, PublicKey, Path, Signer]) -> None:
    bundle, key, _, _ = signed
    (bundle.path / "SHA256SUMS.sig").unlink()
    report = verify_bundle(bundle.path, key)
    assert not report.ok and any("SHA256SUMS.sig: missing" in p for p in report.problems)


def test_an_added_file_listed_in_sums_but_not_the_manifest_is_found(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    bundle, key, _, _ = signed
    (bundle.path / "evidence" / "planted.json").write_text("{}")
    report = verify_bundle(bundle.path, key)
    assert not report.ok
    assert any("planted.json: present but not in the manifest" in p for p in report.problems)


def test_a_folder_holding_only_a_manifest_is_not_a_bundle(
    signed: tuple[Bundle, PublicKey, Path, Signer], tmp_path: Path
) -> None:
    bundle, key, _, _ = signed
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(bundle.path / "manifest.json", lone / "manifest.json")
    report = verify_bundle(lone, key)
    assert not report.ok and report.checked == 0 and report.signature == "unsigned"
    report = verify_bundle(lone)
    assert not report.ok and report.checked == 0
    assert any("results.json: listed in the manifest but missing" in p for p in report.problems)
    assert any("SHA256SUMS: missing" in p for p in report.problems)
    result = CliRunner().invoke(main, ["verify", str(lone), "--allow-unsigned"])
    assert result.exit_code == 1 and result.stdout.startswith("TAMPERED")


def test_inventory_and_results_must_agree(signed: tuple[Bundle, PublicKey, Path, Signer]) -> None:
    """An evidence record dropped from the manifest's inventory (and its files from every
    listing) is found even though every remaining hash matches."""
    bundle, _, _, _ = signed
    folder = bundle.path
    for name in ("SHA256SUMS.sig", "attestation.intoto.jsonl"):
        (folder / name).unlink()
    manifest = json.loads((folder / "manifest.json").read_bytes())
    dropped = manifest["evidence"].pop()
    for role in ("raw", "record"):
        del manifest["files"][dropped[role]]
        (folder / dropped[role]).unlink()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    digests = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    (folder / "SHA256SUMS").write_bytes(sums_text(digests))
    report = verify_bundle(folder)
    assert not report.ok
    assert any("that the manifest's inventory lacks" in p for p in report.problems)


def test_a_raw_copy_stored_as_read_must_hash_to_its_evidence_id(tmp_path: Path) -> None:
    bundle = write(tmp_path)
    folder = bundle.path
    manifest = json.loads((folder / "manifest.json").read_bytes())
    (entry,) = manifest["evidence"]
    assert entry["redacted"] is False
    raw = folder / entry["raw"]
    raw.write_bytes(raw.read_bytes() + b" ")
    manifest["files"][entry["raw"]] = {
        "sha256": hashlib.sha256(raw.read_bytes()).hexdigest(),
        "size": raw.stat().st_size,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    digests = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    (folder / "SHA256SUMS").write_bytes(sums_text(digests))
    report = verify_bundle(folder)
    assert any("stored as read, yet its sha256 is not the id" in p for p in report.problems)


# --- the command line ----------------------------------------------------------------------------


def test_unsigned_bundle_is_not_ok_without_allow_unsigned(tmp_path: Path) -> None:
    bundle = write(tmp_path)
    refused = CliRunner().invoke(main, ["verify", str(bundle.path)])
    assert refused.exit_code == 1
    assert refused.stdout.startswith("UNSIGNED")
    assert "integrity is checked, but not who made it: it carries no signature" in refused.stdout
    assert "not accepted" in refused.stdout
    allowed = CliRunner().invoke(main, ["verify", str(bundle.archive), "--allow-unsigned"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.startswith("OK (UNSIGNED)")
    assert "integrity is checked, but not who made it" in allowed.stdout


def test_signed_bundle_needs_the_key_or_the_flag(signed: tuple[Bundle, PublicKey, Path, Signer]) -> None:
    bundle, _, public, signer = signed
    runner = CliRunner()
    assert runner.invoke(main, ["verify", str(bundle.path)]).exit_code == 1
    result = runner.invoke(main, ["verify", str(bundle.path), "--key", str(public)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK ") and f"signed by {signer.key_id}" in result.stdout


def test_verify_json_says_what_was_checked(signed: tuple[Bundle, PublicKey, Path, Signer]) -> None:
    bundle, _, public, signer = signed
    result = CliRunner().invoke(
        main, ["verify", str(bundle.archive), "--key", str(public), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["accepted"] is True and doc["signature"] == VERIFIED and doc["key_id"] == signer.key_id
    assert doc["decision"] == "NO-GO" and doc["problems"] == []
    unsigned = write(Path(str(bundle.path.parent.parent)), out="plain")
    result = CliRunner().invoke(main, ["verify", str(unsigned.path), "--format", "json"])
    doc = json.loads(result.stdout)
    assert (
        result.exit_code == 1
        and doc["ok"] is True
        and doc["accepted"] is False
        and doc["signature"] == UNSIGNED
    )


def test_keyless_verification_is_refused_as_not_supported(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    bundle, _, _, _ = signed
    result = CliRunner().invoke(
        main, ["verify", str(bundle.path), "--identity", "me@example.com", "--issuer", "https://issuer"]
    )
    assert result.exit_code == 2
    assert "keyless bundle signatures" in result.stderr and "not supported" in result.stderr


def test_a_key_of_another_algorithm_is_a_usage_error(
    signed: tuple[Bundle, PublicKey, Path, Signer], tmp_path: Path
) -> None:
    from tests.bundle.support import openssl_key

    bundle, _, _, _ = signed
    _, rsa_public = openssl_key(tmp_path / "rsa", "rsa")
    result = CliRunner().invoke(main, ["verify", str(bundle.path), "--key", str(rsa_public)])
    assert result.exit_code == 2 and "ECDSA P-256 or Ed25519" in result.stderr


def test_an_archive_of_a_rewritten_folder_is_refused_too(
    signed: tuple[Bundle, PublicKey, Path, Signer], tmp_path: Path
) -> None:
    bundle, key, _, _ = signed
    _rewrite(bundle.path)
    forged = tmp_path / "forged.tar.gz"
    forged.write_bytes(tar_gz(bundle.path.name, read_bundle_files(bundle.path)))
    assert not verify_bundle(forged, key).accepted(False)


def test_envelope_payload_must_be_the_statement_of_this_bundle(
    signed: tuple[Bundle, PublicKey, Path, Signer],
) -> None:
    """An envelope whose payload is some other statement (validly signed: the signer's own VSA
    of another run) does not vouch for this bundle."""
    bundle, key, _, signer = signed
    other = {"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x", "predicate": {}}
    envelope = signer.sign_envelope(json.dumps(other).encode())
    (bundle.path / "attestation.intoto.jsonl").write_bytes(envelope)
    sums = (bundle.path / "SHA256SUMS").read_text().splitlines()
    digest = hashlib.sha256(envelope).hexdigest()
    fixed = [
        f"{digest}  attestation.intoto.jsonl" if line.endswith("  attestation.intoto.jsonl") else line
        for line in sums
    ]
    (bundle.path / "SHA256SUMS").write_text("\n".join(fixed) + "\n")
    (bundle.path / "SHA256SUMS.sig").write_bytes(signer.sign((bundle.path / "SHA256SUMS").read_bytes()))
    report = verify_bundle(bundle.path, key)
    assert not report.ok
    assert any("not an in-toto Statement v1 with a SLSA VSA v1 predicate" in p for p in report.problems)
