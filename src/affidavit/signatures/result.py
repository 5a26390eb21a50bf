"""What a verification is checked against (``Settings``) and what it found (``SignatureCheck``).

A ``SignatureCheck`` keeps three checks apart, each ``True`` (passed), ``False`` (failed) or
``None`` (not carried out):

- ``signature``: the cryptography: the signature over the artefact or envelope, and, for
  keyless signatures, the certificate chain to the trust root, its SCT, the transparency-log
  entry (inclusion proof, checkpoint, signed entry timestamp) and signed timestamps;
- ``identity``: the signer is the one the user's explicit check requires (``--identity`` and
  ``--issuer``, or the key given with ``--key``); ``None`` when no such check was asked for, in
  which case the signer is recorded (``identity``, ``issuer``, ``key_id``) and judged by the rules
  against the rule data (``policies/lib/signers.rego``);
- ``artifact``: the signed digest is the digest of the artefact being verified.

``verified`` is true only when the signature and artefact checks passed, the identity check did
not fail (it passed, or none was asked for) and no reason against it was recorded. It says that
the cryptography holds for this artefact, not that the signer is allowed: that is policy.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from affidavit.artefact import special_file
from affidavit.errors import InputError
from affidavit.model.digest import normalise_digest as digest_rule

if TYPE_CHECKING:
    from pathlib import Path

    from affidavit.signatures.identity import IdentityPolicy

REPORTED_REASON = "reported by cosign, not verified by affidavit"


def normalise_digest(value: str, source: str) -> str:
    """The one digest rule (``model.digest``); a value it refuses is an ``InputError`` naming ``source``."""
    try:
        return digest_rule(value)
    except ValueError as exc:
        raise InputError(
            source,
            f"not an artefact digest: {exc}",
            hint="give it as sha256:<64 hex digits> (the output of `sha256sum`, prefixed)",
        ) from None


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes (hashed once per run); unreadable is an ``InputError``."""
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(str(path), f"the artefact cannot be read: {exc.strerror or exc}") from None
    _refuse_special(info.st_mode, str(path))
    return _hash_file(str(path), info.st_mtime_ns, info.st_size)


@cache
def _hash_file(name: str, mtime_ns: int, size: int) -> str:
    """The digest of one version of a file (``mtime_ns`` and ``size`` make a changed file a new key)."""
    try:  # O_NONBLOCK: a FIFO swapped in after the check below cannot block the open
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(name, f"the artefact cannot be read: {exc.strerror or exc}") from None
    with open(fd, "rb", closefd=True) as handle:
        _refuse_special(os.fstat(fd).st_mode, name)
        try:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise InputError(name, f"the artefact cannot be read: {exc.strerror or exc}") from None
    return f"sha256:{digest}"


def _refuse_special(mode: int, name: str) -> None:
    """Refuse an artefact that is not a regular file (``/dev/zero`` would be hashed forever)."""
    if not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else (special_file(mode) or "a special file")
        raise InputError(name, f"the artefact is {what}, not a regular file")


@dataclass(frozen=True, slots=True)
class Settings:
    """What a signature is verified against; built from the collector options."""

    policy: IdentityPolicy
    artifact_digest: str | None = None
    trusted_root: Path | None = None
    public_key: Path | None = None
    signature: Path | None = None
    payload: Path | None = None
    now: str | None = None

    @classmethod
    def build(
        cls,
        *,
        policy: IdentityPolicy,
        artifact_digest: str | None = None,
        artifact: Path | None = None,
        trusted_root: Path | None = None,
        public_key: Path | None = None,
        signature: Path | None = None,
        payload: Path | None = None,
        now: str | None = None,
    ) -> Settings:
        """Resolve the artefact digest from ``artifact_digest`` and/or an ``artifact`` file.

        When both are given they must agree; a disagreement is an ``InputError`` (the caller
        named two different artefacts).
        """
        digest = normalise_digest(artifact_digest, "--digest") if artifact_digest else None
        if artifact is not None:
            from_file = file_digest(artifact)
            if digest is not None and digest != from_file:
                raise InputError(
                    str(artifact),
                    f"has digest {from_file}, but the digest given is {digest}",
                    hint="pass either the artefact or its digest, not two different artefacts",
                )
            digest = from_file
        return cls(
            policy=policy,
            artifact_digest=digest,
            trusted_root=trusted_root,
            public_key=public_key,
            signature=signature,
            payload=payload,
            now=now,
        )


@dataclass(slots=True)
class SignatureCheck:
    """One signature and what affidavit established about it (see the module docstring)."""

    method: str
    subject_digest: str | None = None
    identity: str | None = None
    issuer: str | None = None
    key_id: str | None = None
    tlog: dict[str, Any] | None = None
    signature: bool | None = None
    identity_ok: bool | None = None
    artifact: bool | None = None
    reasons: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """True when the cryptography and artefact checks passed, no explicit identity check failed
        and nothing was recorded against it."""
        return (
            self.signature is True
            and self.identity_ok is not False
            and self.artifact is True
            and not self.reasons
        )

    def fail(self, reason: str) -> None:
        """Record a reason why this signature is not verified (kept once, in order)."""
        if reason not in self.reasons:
            self.reasons.append(reason)

    def to_json(self) -> dict[str, Any]:
        """The ``data.verifications[]`` item of a signature record."""
        return {
            "verified": self.verified,
            "method": self.method,
            "subject_digest": self.subject_digest,
            "identity": self.identity,
            "issuer": self.issuer,
            "key_id": self.key_id,
            "tlog": self.tlog,
            "checks": {"signature": self.signature, "identity": self.identity_ok, "artifact": self.artifact},
            "error": "; ".join(self.reasons) if self.reasons else None,
            "reasons": list(self.reasons),
            "checked": list(self.checked),
        }

    def check_artifact(self, signed_digests: list[str], settings: Settings) -> None:
        """Compare the digests the signature covers with the artefact digest being verified."""
        wanted = settings.artifact_digest
        if self.subject_digest is None and signed_digests:
            self.subject_digest = signed_digests[0]
        if wanted is None:
            self.artifact = None
            shown = self._digests(signed_digests)
            self.fail(
                f"no artefact digest given (--artifact FILE or --digest sha256:...): the signature "
                f"covers {shown}, but that this is the artefact being promoted was not checked"
            )
            return
        if wanted in signed_digests:
            self.artifact = True
            self.subject_digest = wanted
            return
        self.artifact = False
        self.fail(
            f"the signature covers {self._digests(signed_digests, 'other ')}, not the artefact {wanted}"
        )

    def _digests(self, signed: list[str], other: str = "") -> str:
        """How many digests the signature covers, in words: the digests are the artefact's values,
        never quoted (the first is the record's ``subject_digest`` unless another was set)."""
        if not signed:
            return "no digest"
        count = f"1 {other}digest" if len(signed) == 1 else f"{len(signed)} {other}digests"
        if self.subject_digest == signed[0]:
            return count + (
                " (recorded as subject_digest)"
                if len(signed) == 1
                else ", the first recorded as subject_digest"
            )
        return count


def key_fingerprint(der_spki: bytes) -> str:
    """The id affidavit gives a public key: ``sha256:`` of its DER SubjectPublicKeyInfo."""
    return "sha256:" + hashlib.sha256(der_spki).hexdigest()


# A field name of sigstore's models in a validation error's location (anything else there is
# the document's own key, and is not repeated).
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")


def library_message(exc: BaseException) -> str:
    """What a library said about a bundle or trust root, on one line, without quoting it.

    A pydantic validation error (what sigstore-python's models raise for a malformed bundle or
    trusted root, as the cause of their own error) is described by its count, the first error's
    place in the document and its kind: its text quotes the offending value. Another error is
    sigstore's or cryptography's own sentence about a check that failed ("invalid root hash"),
    which names no value of the document but enumerations and numbers; it is kept, cut to 200
    characters.
    """
    cause: BaseException | None = exc
    while cause is not None:
        errors = getattr(cause, "errors", None)
        if type(cause).__name__ == "ValidationError" and callable(errors):
            return _validation(errors())
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return text or type(exc).__name__


def _validation(errors: list[dict[str, Any]]) -> str:
    """A pydantic error list in words: how many, and where the first is and what kind it is."""
    if not errors:
        return "it does not match sigstore's model"
    first = errors[0]
    loc = list(first.get("loc") or ())
    if first.get("type") == "extra_forbidden" and loc:
        loc[-1] = "(a key the model does not define)"
    place = ".".join(
        str(part)
        if isinstance(part, int) or (isinstance(part, str) and _FIELD.fullmatch(part))
        else "(a key)"
        for part in loc
    )
    kind = str(first.get("type", "invalid"))
    kind = kind if _FIELD.fullmatch(kind) else "invalid"
    count = f"{len(errors)} validation error{'' if len(errors) == 1 else 's'}"
    return f"it does not match sigstore's model: {count}, the first at {place or 'the top'} ({kind})"
