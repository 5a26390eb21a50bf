"""Offline verification of signatures and attestations: verify, don't trust.

The collectors for signatures and attestations (``affidavit.collectors.formats.sigstore_bundle``,
``cosign`` and ``attestation``) hand the raw material to this package and record what it says.
Nothing here reads the network: trust roots are the one embedded in sigstore-python for the
public-good instance, or a file the user names; a TUF refresh is never attempted.

Modules:

- ``result``: ``Settings`` (what to verify against) and ``SignatureCheck`` (what was found), the
  value written into ``data.verifications[]`` of a signature record.
- ``identity``: reading a Fulcio certificate's identity and issuer, and the explicit identity
  check a user may ask for (``--identity``/``--issuer``: exact values, or whole-value ``re:``
  patterns).
- ``trust``: loading a trusted root (``trusted_root.json`` or a ClientTrustConfig) without TUF.
- ``keys``: public-key signatures with ``cryptography`` (cosign key pairs, DSSE with a key,
  simple-signing payloads).
- ``sigstore``: Sigstore bundles, verified with the ``sigstore`` library (imported lazily).

A result is ``verified`` only when the cryptography was checked here, the signed artefact is the
one named by digest, and the signer passed the user's explicit check when one was asked for
(``--identity``/``--issuer``, or the public key given). Anything less is recorded with
``verified: false`` and the reason; it is never a crash. Who signed (identity and issuer, or key
id) is always recorded; whether that signer may sign for an environment is policy, decided in
Rego from the rule data (``policies/lib/signers.rego``), never here.
"""
