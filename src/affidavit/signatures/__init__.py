"""Offline verification of signatures and attestations: verify, don't trust.

The collectors for signatures and attestations (``affidavit.collectors.formats.sigstore_bundle``,
``cosign`` and ``attestation``) hand the raw material to this package and record what it says.
Nothing here reads the network: trust roots are the one embedded in sigstore-python for the
public-good instance, or a file the user names; a TUF refresh is never attempted.

Modules:

- ``result``: ``Settings`` (what to verify against) and ``SignatureCheck`` (what was found), the
  value written into ``data.verifications[]`` of a signature record.
- ``policy``: the identity policy (exact values, or ``re:`` patterns) and reading a Fulcio
  certificate's identity and issuer.
- ``trust``: loading a trusted root (``trusted_root.json`` or a ClientTrustConfig) without TUF.
- ``keys``: public-key signatures with ``cryptography`` (cosign key pairs, DSSE with a key,
  simple-signing payloads).
- ``sigstore``: Sigstore bundles, verified with the ``sigstore`` library (imported lazily).

A result is ``verified`` only when the cryptography was checked here, the signer matched the
identity policy (or the given public key) and the signed artefact is the one named by digest.
Anything less is recorded with ``verified: false`` and the reason; it is never a crash.
"""
