"""Built-in functions that affidavit supplies to the Rego engine under their OPA names.

regorus 0.13 lacks OPA's ``crypto.*`` family and ``array.flatten``, and it has two built-ins an
evidence engine must not run as they are: ``http.send`` (network access from a policy) and
``time.now_ns`` (the wall clock, which would make two runs on the same inputs differ). This module
provides Python implementations that the engine adapter registers with ``add_extension``:

- ``time.now_ns`` returns the run's clock (``--now``), pinned for the whole evaluation;
- ``http.send`` and ``net.lookup_ip_addr`` raise: policies judge evidence, they do not fetch it;
- ``crypto.sha256``/``sha1``/``md5``, ``crypto.hmac.sha256``/``sha512``/``sha1``/``md5``/``equal``,
  ``crypto.x509.parse_certificates`` and ``array.flatten`` behave like OPA's (same inputs, same
  outputs, same error texts where OPA's conformance suite pins them).

Error messages follow OPA's wording (``crypto.sha256: operand 1 must be string but got number``), so a
policy author sees the same text as with ``opa eval``. ``cryptography`` is imported only when a policy
actually parses a certificate.

Known differences from OPA, measured with ``tools/conformance.py``:

- regorus does not accept the "output argument" call form (``crypto.sha256(x, out)``) for extension
  functions ("var out is unsafe"); write ``out := crypto.sha256(x)``.
- ``with crypto.sha256 as ...`` mocking does not work for functions that regorus itself lacks (it does
  for the overridden ``time.now_ns``).
- x509 serial numbers beyond 64 bits are returned as floats (regorus numbers from Python must fit an
  i64); compare serials through ``SerialNumberHex`` (an affidavit addition) instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from cryptography import x509 as _x509


@dataclass(frozen=True, slots=True)
class Extension:
    """One function registered with the engine: its OPA name, arity and implementation."""

    name: str
    nargs: int
    fn: Callable[..., Any]


class BuiltinError(Exception):
    """Raised by an extension; the engine reports it as the rule's error, with this text."""


def type_name(value: object) -> str:
    """OPA's name for the Rego type of a value converted from the engine."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, set | frozenset):
        return "set"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _want_string(fname: str, position: int, value: object) -> str:
    """Return ``value`` when it is a string; otherwise raise OPA's operand type error."""
    if not isinstance(value, str):
        raise BuiltinError(f"{fname}: operand {position} must be string but got {type_name(value)}")
    return value


# ---------------------------------------------------------------------------------------------
# Overridden and disabled built-ins


def _now_ns_fn(now_ns: int) -> Callable[[], int]:
    """A ``time.now_ns`` that returns the run's clock instead of the wall clock."""

    def now() -> int:
        """The evaluation's pinned clock in nanoseconds since the epoch."""
        return now_ns

    return now


def _disabled(name: str) -> Callable[..., Any]:
    """A built-in that always fails: affidavit policies must not reach the network."""

    def fn(*_args: object) -> Any:
        """Refuse to run; policies judge the evidence they are given."""
        raise BuiltinError(
            f"{name} is disabled in affidavit: policies judge collected evidence, they do not fetch it"
        )

    return fn


# ---------------------------------------------------------------------------------------------
# crypto.*


def _digest_fn(fname: str, algorithm: str) -> Callable[[object], str]:
    """``crypto.<alg>(string)``: hex digest of the string's UTF-8 bytes."""

    def fn(value: object) -> str:
        """Hex digest of the UTF-8 encoding of the operand."""
        text = _want_string(fname, 1, value)
        return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()

    return fn


def _hmac_fn(fname: str, algorithm: str) -> Callable[[object, object], str]:
    """``crypto.hmac.<alg>(message, key)``: hex HMAC of the message with the key."""

    def fn(message: object, key: object) -> str:
        """Hex HMAC of the UTF-8 message under the UTF-8 key."""
        msg = _want_string(fname, 1, message)
        k = _want_string(fname, 2, key)
        return hmac.new(k.encode("utf-8"), msg.encode("utf-8"), algorithm).hexdigest()

    return fn


def _hmac_equal(mac1: object, mac2: object) -> bool:
    """``crypto.hmac.equal(mac1, mac2)``: constant-time comparison of two MACs."""
    a = _want_string("crypto.hmac.equal", 1, mac1)
    b = _want_string("crypto.hmac.equal", 2, mac2)
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# array.flatten


def _array_flatten(value: object) -> list[Any]:
    """``array.flatten(arr)``: one level of nested arrays spliced into the outer array."""
    if not isinstance(value, list | tuple):
        raise BuiltinError(f"array.flatten: operand 1 must be array but got {type_name(value)}")
    out: list[Any] = []
    for item in value:
        if isinstance(item, list | tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# crypto.x509.parse_certificates

_PEM_MARKER = "-----BEGIN"

# Go's crypto/x509 enumerations, which OPA's JSON output carries as numbers.
_SIG_ALGORITHMS = {
    "1.2.840.113549.1.1.2": 1,  # MD2WithRSA
    "1.2.840.113549.1.1.4": 2,  # MD5WithRSA
    "1.2.840.113549.1.1.5": 3,  # SHA1WithRSA
    "1.2.840.113549.1.1.11": 4,  # SHA256WithRSA
    "1.2.840.113549.1.1.12": 5,  # SHA384WithRSA
    "1.2.840.113549.1.1.13": 6,  # SHA512WithRSA
    "1.2.840.10040.4.3": 7,  # DSAWithSHA1
    "2.16.840.1.101.3.4.3.2": 8,  # DSAWithSHA256
    "1.2.840.10045.4.1": 9,  # ECDSAWithSHA1
    "1.2.840.10045.4.3.2": 10,  # ECDSAWithSHA256
    "1.2.840.10045.4.3.3": 11,  # ECDSAWithSHA384
    "1.2.840.10045.4.3.4": 12,  # ECDSAWithSHA512
    "1.2.840.113549.1.1.10": 13,  # RSASSA-PSS (Go distinguishes the hash; we report SHA256WithRSAPSS)
    "1.3.101.112": 16,  # PureEd25519
}
_EXT_KEY_USAGES = {
    "2.5.29.37.0": 0,
    "1.3.6.1.5.5.7.3.1": 1,
    "1.3.6.1.5.5.7.3.2": 2,
    "1.3.6.1.5.5.7.3.3": 3,
    "1.3.6.1.5.5.7.3.4": 4,
    "1.3.6.1.5.5.7.3.5": 5,
    "1.3.6.1.5.5.7.3.6": 6,
    "1.3.6.1.5.5.7.3.7": 7,
    "1.3.6.1.5.5.7.3.8": 8,
    "1.3.6.1.5.5.7.3.9": 9,
    "1.3.6.1.4.1.311.10.3.3": 10,
    "2.16.840.1.113730.4.1": 11,
    "1.3.6.1.4.1.311.2.1.22": 12,
    "1.3.6.1.4.1.311.61.1.1": 13,
}
# pkix.Name fields in Go's order, keyed by attribute OID.
_NAME_FIELDS = (
    ("2.5.4.6", "Country"),
    ("2.5.4.10", "Organization"),
    ("2.5.4.11", "OrganizationalUnit"),
    ("2.5.4.7", "Locality"),
    ("2.5.4.8", "Province"),
    ("2.5.4.9", "StreetAddress"),
    ("2.5.4.17", "PostalCode"),
)
_I64_MAX = 2**63 - 1


def _certificate_bytes(text: str) -> list[bytes]:
    """The DER encodings in a PEM string, or in base64 of PEM or of (concatenated) DER."""
    if text.startswith(_PEM_MARKER):
        raw = text.encode("utf-8")
    else:
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise BuiltinError(f"illegal base64 data: {exc}") from None
    if raw.startswith(_PEM_MARKER.encode()):
        return _pem_blocks(raw)
    return _der_sequence(raw)


def _pem_blocks(raw: bytes) -> list[bytes]:
    """DER bytes of every CERTIFICATE block in PEM text."""
    out: list[bytes] = []
    lines = raw.decode("utf-8", errors="replace").splitlines()
    inside = False
    body: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped == "-----BEGIN CERTIFICATE-----":
            inside, body = True, []
        elif stripped == "-----END CERTIFICATE-----" and inside:
            inside = False
            try:
                out.append(base64.b64decode("".join(body), validate=True))
            except (binascii.Error, ValueError) as exc:
                raise BuiltinError(f"x509: malformed PEM block: {exc}") from None
        elif inside:
            body.append(stripped)
    if not out:
        raise BuiltinError("x509: no certificate found in PEM data")
    return out


def _der_sequence(raw: bytes) -> list[bytes]:
    """Split concatenated DER certificates (each an ASN.1 SEQUENCE) into single encodings."""
    out: list[bytes] = []
    pos = 0
    while pos < len(raw):
        if raw[pos] != 0x30 or pos + 2 > len(raw):
            raise BuiltinError("x509: malformed certificate")
        first = raw[pos + 1]
        if first < 0x80:
            length, header = first, 2
        else:
            n = first & 0x7F
            if n == 0 or n > 4 or pos + 2 + n > len(raw):
                raise BuiltinError("x509: malformed certificate")
            length = int.from_bytes(raw[pos + 2 : pos + 2 + n], "big")
            header = 2 + n
        end = pos + header + length
        if end > len(raw):
            raise BuiltinError("x509: malformed certificate")
        out.append(raw[pos:end])
        pos = end
    if not out:
        raise BuiltinError("x509: malformed certificate")
    return out


def _oid_list(dotted: str) -> list[int]:
    """An OID as Go's ``asn1.ObjectIdentifier`` marshals it: a list of integers."""
    return [int(part) for part in dotted.split(".")]


def _b64(data: bytes | None) -> str | None:
    """Go marshals ``[]byte`` as standard base64 and a nil slice as null."""
    return None if data is None else base64.b64encode(data).decode("ascii")


def _go_time(moment: datetime) -> str:
    """``time.Time`` as Go's JSON encoder writes it (RFC 3339, UTC, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: int) -> int | float:
    """An integer the engine can take: beyond 64 bits it becomes a float (see module docstring)."""
    return value if -_I64_MAX - 1 <= value <= _I64_MAX else float(value)


def _name_json(name: _x509.Name) -> dict[str, Any]:
    """A certificate name shaped like Go's ``pkix.Name``."""
    by_oid: dict[str, list[str]] = {}
    names: list[dict[str, Any]] = []
    for attribute in name:
        value = attribute.value if isinstance(attribute.value, str) else attribute.value.hex()
        oid = attribute.oid.dotted_string
        by_oid.setdefault(oid, []).append(value)
        names.append({"Type": _oid_list(oid), "Value": value})
    out: dict[str, Any] = {field: by_oid.get(oid) for oid, field in _NAME_FIELDS}
    serials = by_oid.get("2.5.4.5", [])
    common = by_oid.get("2.5.4.3", [])
    out["SerialNumber"] = serials[-1] if serials else ""
    out["CommonName"] = common[-1] if common else ""
    out["Names"] = names or None
    out["ExtraNames"] = None
    return out


def _certificate_json(der: bytes) -> dict[str, Any]:
    """One certificate shaped like OPA's JSON of Go's ``x509.Certificate`` (the fields policies use)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
    from cryptography.x509.oid import ExtensionOID

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise BuiltinError(f"x509: malformed certificate: {exc}") from None

    key = cert.public_key()
    key_algorithm = 0
    if isinstance(key, rsa.RSAPublicKey):
        key_algorithm = 1
    elif isinstance(key, dsa.DSAPublicKey):
        key_algorithm = 2
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_algorithm = 3
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_algorithm = 4

    def extension(oid: x509.ObjectIdentifier) -> Any:
        """The parsed value of one extension, or None when the certificate lacks it."""
        try:
            return cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            return None
        except ValueError:  # pragma: no cover - malformed extension inside a parseable certificate
            return None

    san = extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    dns = list(san.get_values_for_type(x509.DNSName)) if san is not None else []
    emails = list(san.get_values_for_type(x509.RFC822Name)) if san is not None else []
    uris = list(san.get_values_for_type(x509.UniformResourceIdentifier)) if san is not None else []
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] if san is not None else []

    basic = extension(ExtensionOID.BASIC_CONSTRAINTS)
    key_usage = extension(ExtensionOID.KEY_USAGE)
    usage_bits = 0
    if key_usage is not None:
        flags = [
            key_usage.digital_signature,
            key_usage.content_commitment,
            key_usage.key_encipherment,
            key_usage.data_encipherment,
            key_usage.key_agreement,
            key_usage.key_cert_sign,
            key_usage.crl_sign,
            key_usage.key_agreement and key_usage.encipher_only,
            key_usage.key_agreement and key_usage.decipher_only,
        ]
        usage_bits = sum(1 << i for i, flag in enumerate(flags) if flag)
    eku = extension(ExtensionOID.EXTENDED_KEY_USAGE)
    ext_usage = (
        [_EXT_KEY_USAGES[o.dotted_string] for o in eku if o.dotted_string in _EXT_KEY_USAGES] if eku else []
    )
    unknown_usage = (
        [_oid_list(o.dotted_string) for o in eku if o.dotted_string not in _EXT_KEY_USAGES] if eku else []
    )
    ski = extension(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    aki = extension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    aia = extension(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    ocsp: list[str] = []
    issuers: list[str] = []
    if aia is not None:
        for desc in aia:
            if isinstance(desc.access_location, x509.UniformResourceIdentifier):
                if desc.access_method.dotted_string == "1.3.6.1.5.5.7.48.1":
                    ocsp.append(desc.access_location.value)
                elif desc.access_method.dotted_string == "1.3.6.1.5.5.7.48.2":
                    issuers.append(desc.access_location.value)
    crl = extension(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    crl_points = [
        name.value
        for point in (crl or [])
        for name in (point.full_name or [])
        if isinstance(name, x509.UniformResourceIdentifier)
    ]
    policies = extension(ExtensionOID.CERTIFICATE_POLICIES)
    policy_ids = [_oid_list(p.policy_identifier.dotted_string) for p in policies] if policies else []

    extensions = [
        {
            "Id": _oid_list(ext.oid.dotted_string),
            "Critical": ext.critical,
            "Value": _b64(_extension_der(cert, ext.oid.dotted_string)),
        }
        for ext in cert.extensions
    ]
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    is_ca = bool(basic.ca) if basic is not None else False
    path_len = basic.path_length if basic is not None and basic.path_length is not None else -1
    return {
        "Raw": _b64(der),
        "RawTBSCertificate": _b64(cert.tbs_certificate_bytes),
        "RawSubjectPublicKeyInfo": _b64(spki),
        "RawSubject": _b64(cert.subject.public_bytes()),
        "RawIssuer": _b64(cert.issuer.public_bytes()),
        "Signature": _b64(cert.signature),
        "SignatureAlgorithm": _SIG_ALGORITHMS.get(cert.signature_algorithm_oid.dotted_string, 0),
        "PublicKeyAlgorithm": key_algorithm,
        "Version": cert.version.value + 1,
        "SerialNumber": _number(cert.serial_number),
        "SerialNumberHex": format(cert.serial_number, "x"),
        "Issuer": _name_json(cert.issuer),
        "Subject": _name_json(cert.subject),
        "NotBefore": _go_time(cert.not_valid_before_utc),
        "NotAfter": _go_time(cert.not_valid_after_utc),
        "KeyUsage": usage_bits,
        "Extensions": extensions or None,
        "ExtraExtensions": None,
        "UnhandledCriticalExtensions": None,
        "ExtKeyUsage": ext_usage or None,
        "UnknownExtKeyUsage": unknown_usage or None,
        "BasicConstraintsValid": basic is not None,
        "IsCA": is_ca,
        "MaxPathLen": path_len if basic is not None else 0,
        "MaxPathLenZero": path_len == 0,
        "SubjectKeyId": _b64(ski.digest) if ski is not None else None,
        "AuthorityKeyId": _b64(aki.key_identifier) if aki is not None and aki.key_identifier else None,
        "OCSPServer": ocsp or None,
        "IssuingCertificateURL": issuers or None,
        "DNSNames": dns or None,
        "EmailAddresses": emails or None,
        "IPAddresses": ips or None,
        "URIs": uris or None,
        "URIStrings": uris or None,
        "CRLDistributionPoints": crl_points or None,
        "PolicyIdentifiers": policy_ids or None,
    }


def _extension_der(cert: _x509.Certificate, oid: str) -> bytes | None:
    """The raw DER value of one extension (cryptography exposes it only for unparsed ones)."""
    for ext in cert.extensions:
        if ext.oid.dotted_string == oid:
            value = ext.value
            public_bytes = getattr(value, "public_bytes", None)
            if callable(public_bytes):
                try:
                    raw = public_bytes()
                except (NotImplementedError, TypeError, ValueError):  # pragma: no cover - defensive
                    return None
                return raw if isinstance(raw, bytes) else None
            raw_value = getattr(value, "value", None)
            return raw_value if isinstance(raw_value, bytes) else None
    return None  # pragma: no cover - called only for present extensions


def _parse_certificates(value: object) -> list[dict[str, Any]]:
    """``crypto.x509.parse_certificates(certs)``: PEM or base64 (PEM or DER) to certificate objects."""
    text = _want_string("crypto.x509.parse_certificates", 1, value)
    return [_certificate_json(der) for der in _certificate_bytes(text)]


# ---------------------------------------------------------------------------------------------
# Registry

#: Names this module always registers, whatever the run (the load-time check counts them as known).
EXTENSION_NAMES: tuple[str, ...] = (
    "array.flatten",
    "crypto.hmac.equal",
    "crypto.hmac.md5",
    "crypto.hmac.sha1",
    "crypto.hmac.sha256",
    "crypto.hmac.sha512",
    "crypto.md5",
    "crypto.sha1",
    "crypto.sha256",
    "crypto.x509.parse_certificates",
    "http.send",
    "net.lookup_ip_addr",
    "time.now_ns",
)


def extensions(now_ns: int) -> Sequence[Extension]:
    """Every function affidavit registers with the engine, with ``time.now_ns`` pinned to ``now_ns``."""
    table = [
        Extension("time.now_ns", 0, _now_ns_fn(now_ns)),
        Extension("http.send", 1, _disabled("http.send")),
        Extension("net.lookup_ip_addr", 1, _disabled("net.lookup_ip_addr")),
        Extension("crypto.sha256", 1, _digest_fn("crypto.sha256", "sha256")),
        Extension("crypto.sha1", 1, _digest_fn("crypto.sha1", "sha1")),
        Extension("crypto.md5", 1, _digest_fn("crypto.md5", "md5")),
        Extension("crypto.hmac.sha256", 2, _hmac_fn("crypto.hmac.sha256", "sha256")),
        Extension("crypto.hmac.sha512", 2, _hmac_fn("crypto.hmac.sha512", "sha512")),
        Extension("crypto.hmac.sha1", 2, _hmac_fn("crypto.hmac.sha1", "sha1")),
        Extension("crypto.hmac.md5", 2, _hmac_fn("crypto.hmac.md5", "md5")),
        Extension("crypto.hmac.equal", 2, _hmac_equal),
        Extension("crypto.x509.parse_certificates", 1, _parse_certificates),
        Extension("array.flatten", 1, _array_flatten),
    ]
    return sorted(table, key=lambda e: e.name)
