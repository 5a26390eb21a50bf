"""Trusted roots for Sigstore verification, loaded offline.

The default is the public-good (production) trusted root that sigstore-python embeds in its
package (``sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json``), read
as a file: no TUF client is built, so nothing is fetched or refreshed. A user may name another
root (staging, a private deployment) as a ``trusted_root.json`` (media type
``application/vnd.dev.sigstore.trustedroot+json;version=0.1``) or as a ClientTrustConfig
(``application/vnd.dev.sigstore.clienttrustconfig.v0.1+json``), whose trusted root is used.

Refreshing the embedded root over TUF needs the network; affidavit never does it on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.artefact import load_json, read_user_file, shape_of
from affidavit.errors import InputError
from affidavit.signatures.result import library_message

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
_EMBEDDED_DIR = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"


@dataclass(frozen=True, slots=True)
class LoadedRoot:
    """A trusted root and where it came from (recorded in the evidence)."""

    root: TrustedRoot
    source: str
    sha256: str

    def describe(self) -> dict[str, Any]:
        """The ``data.trust_root`` of a signature record."""
        return {"source": self.source, "sha256": f"sha256:{self.sha256}"}


def load_trusted_root(path: Path | None) -> LoadedRoot:
    """The trusted root at ``path`` or, when ``None``, the embedded public-good root.

    A file that is not a trusted root or ClientTrustConfig is an ``InputError`` naming it.
    """
    if path is None:
        return _embedded()
    return _from_file(str(path))


@cache
def _embedded() -> LoadedRoot:
    """The public-good trusted root shipped inside sigstore-python, read as a package resource."""
    from sigstore import __version__

    raw = resources.files("sigstore._store").joinpath(_EMBEDDED_DIR, "trusted_root.json").read_bytes()
    root = _parse(raw, "embedded public-good trusted root")
    return LoadedRoot(
        root=root,
        source=f"public-good trusted root embedded in sigstore-python {__version__}",
        sha256=hashlib.sha256(raw).hexdigest(),
    )


#: The largest trusted root (or ClientTrustConfig) file read, in bytes: the public-good root
#: is about 10 KiB, so this leaves room for many more keys and certificate chains.
MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024


@cache
def _from_file(name: str) -> LoadedRoot:
    """A trusted root or ClientTrustConfig from a file (cached per path for the run)."""
    try:  # a device, FIFO or oversized file is refused before it is read
        raw = read_user_file(name, MAX_TRUSTED_ROOT_BYTES)
    except InputError as exc:
        raise InputError(exc.source, f"the trusted root {exc.detail}", hint=exc.hint) from None
    return LoadedRoot(root=_parse(raw, name), source=name, sha256=hashlib.sha256(raw).hexdigest())


def _parse(raw: bytes, name: str) -> TrustedRoot:
    """Build sigstore-python's ``TrustedRoot`` from trusted-root or ClientTrustConfig JSON."""
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore_models.trustroot import v1 as trustroot_v1

    try:
        value = load_json(raw, name)
    except InputError as exc:  # not JSON, or a key named twice (which sigstore's parser would not see)
        raise InputError(name, f"the trusted root: {exc.detail}", hint=exc.hint) from None
    media_type = value.get("mediaType") if isinstance(value, dict) else None
    try:
        if media_type == TRUSTED_ROOT_MEDIA_TYPE:
            return TrustedRoot(trustroot_v1.TrustedRoot.from_json(raw))
        if media_type == TRUST_CONFIG_MEDIA_TYPE:
            return ClientTrustConfig.from_json(raw.decode("utf-8")).trusted_root
    except Exception as exc:  # pydantic and sigstore raise several types for a malformed root
        raise InputError(name, f"is not a usable Sigstore trusted root: {library_message(exc)}") from None
    raise InputError(
        name,
        f"is not a Sigstore trusted root (its mediaType is {shape_of(media_type)}, not one of the two below)",
        hint=f"expected mediaType {TRUSTED_ROOT_MEDIA_TYPE!r} or {TRUST_CONFIG_MEDIA_TYPE!r}",
    )
