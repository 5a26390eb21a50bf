"""Reading who signed from a Fulcio certificate, and the explicit identity check a user asks for.

The signature collectors always record the certificate's identity (its Subject Alternative Name:
an e-mail address, a workflow URI ...) and the OIDC issuer that vouched for it. Whether that
signer may sign for an environment is policy, decided in Rego from the rule data
(``policies/lib/signers.rego``); nothing here reads the rule data.

A user may in addition ask for an explicit check (``affidavit collect/gate --identity
--issuer``): an ``IdentityPolicy``. It needs both values (an identity without its issuer could be
claimed through another identity provider, so half a policy fails closed), and a signature whose
certificate does not satisfy it is not verified. Each value is matched exactly, or, when written
``re:<pattern>``, as a regular expression that must match the whole value (``re.fullmatch``), for
example ``re:https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.*``. The
rule data's ``identity_patterns`` mean the same (Rego anchors them as ``^(?:pattern)$``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affidavit.errors import InputError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

PATTERN_PREFIX = "re:"

# Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)
_OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"  # raw bytes
_OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"  # DER UTF8String
_OID_OTHERNAME_SAN = "1.3.6.1.4.1.57264.1.7"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One expected value: exact, or a whole-value regular expression."""

    text: str
    pattern: re.Pattern[str] | None

    @classmethod
    def parse(cls, value: str, what: str) -> Matcher:
        """``re:<pattern>`` is a regular expression; anything else is matched exactly."""
        if value.startswith(PATTERN_PREFIX):
            source = value[len(PATTERN_PREFIX) :]
            try:
                return cls(value, re.compile(source))
            except re.error as exc:
                raise InputError(
                    f"--{what}", f"{source!r} is not a valid regular expression: {exc}"
                ) from None
        return cls(value, None)

    def matches(self, actual: str) -> bool:
        """True when ``actual`` is the expected value (or matches the whole pattern)."""
        if self.pattern is None:
            return actual == self.text
        return self.pattern.fullmatch(actual) is not None


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """An explicit check of the signer: the identity and issuer a user requires; empty when none."""

    identity: Matcher | None = None
    issuer: Matcher | None = None

    @property
    def requested(self) -> bool:
        """True when the user asked for a check (gave ``--identity``, ``--issuer`` or both)."""
        return self.identity is not None or self.issuer is not None

    @classmethod
    def build(cls, identity: str | None, issuer: str | None) -> IdentityPolicy:
        """Parse the ``identity`` and ``issuer`` settings (either may be missing)."""
        return cls(
            identity=Matcher.parse(identity, "identity") if identity else None,
            issuer=Matcher.parse(issuer, "issuer") if issuer else None,
        )

    def allows_identity(self, name: str) -> bool:
        """True when ``name`` matches the identity part of this policy."""
        return self.identity is not None and self.identity.matches(name)

    def describe(self) -> dict[str, Any]:
        """The policy as recorded in ``data.policy``: what was checked."""
        return {
            "identity": None if self.identity is None else self.identity.text,
            "issuer": None if self.issuer is None else self.issuer.text,
        }

    def missing(self) -> str | None:
        """Why this policy cannot decide who signed, or ``None`` when it is complete."""
        if self.identity is None and self.issuer is None:
            return "no identity policy given (--identity and --issuer): who signed was not checked"
        if self.identity is None:
            return "no identity given (--identity): an issuer alone allows anyone it vouches for"
        if self.issuer is None:
            return "no issuer given (--issuer): an identity is only meaningful with the issuer that vouched for it"
        return None

    def check(self, identities: list[str], issuer: str | None) -> str | None:
        """``None`` when the certificate's identities and issuer satisfy the policy, else why not."""
        problem = self.missing()
        if problem is not None:
            return problem
        assert self.identity is not None and self.issuer is not None  # for mypy: missing() said so
        if issuer is None:
            return "the certificate names no OIDC issuer"
        if not self.issuer.matches(issuer):
            return f"the certificate's issuer (recorded as issuer) is not the allowed issuer {self.issuer.text!r}"
        if not any(self.identity.matches(name) for name in identities):
            shown = f"{len(identities)}, recorded as identity" if identities else "none"
            return f"the certificate's identities ({shown}) do not match the allowed identity {self.identity.text!r}"
        return None


def certificate_identity(cert: Certificate) -> tuple[list[str], str | None]:
    """The identities (SAN values) of a Fulcio certificate, and its OIDC issuer."""
    from cryptography import x509
    from cryptography.x509.oid import ObjectIdentifier

    identities: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        identities.extend(san.get_values_for_type(x509.RFC822Name))
        identities.extend(san.get_values_for_type(x509.UniformResourceIdentifier))
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id.dotted_string == _OID_OTHERNAME_SAN:
                text = _der_utf8(other.value)
                if text is not None:
                    identities.append(text)

    issuer: str | None = None
    for oid, der in ((_OID_ISSUER_V2, True), (_OID_ISSUER_V1, False)):
        try:
            ext = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value
        except x509.ExtensionNotFound:
            continue
        raw = getattr(ext, "value", b"")
        if not isinstance(raw, bytes):
            continue
        issuer = _der_utf8(raw) if der else raw.decode("utf-8", errors="replace")
        if issuer:
            break
    return identities, issuer


def _der_utf8(raw: bytes) -> str | None:
    """Decode a DER UTF8String (tag 0x0C, short or long length); ``None`` if it is not one."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length = raw[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(raw) < 2 + count:
            return None
        length = int.from_bytes(raw[2 : 2 + count], "big")
        offset = 2 + count
    body = raw[offset : offset + length]
    if len(body) != length:
        return None
    return body.decode("utf-8", errors="replace")
