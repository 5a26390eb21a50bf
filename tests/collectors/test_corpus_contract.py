"""The collector contract: one set of rules for every format of the registry and every corpus file.

The per-format test modules assert each file's facts (counts, fields, edge cases). This module
asserts what every format owes, driven by the format registry (``registry.formats()``) and the
corpus INDEX files (``../shared/corpus/<folder>/INDEX.json``):

- **golden**: every file under ``tests/golden/<kind>/`` is the exact record of the input the
  ``GOLDENS`` table names (a corpus file, or an example kept beside the goldens for a format the
  corpus has no sample of), compared by one helper, ``check_golden``; a golden the table does
  not name, or a producing format with no golden, fails (``NO_GOLDEN`` says why a format has none);
- **truncation**: every corpus file cut short (at 10, 50, 73 and 90 % and one byte before its
  end; a ``.tf`` source in the middle, see ``cuts``) is an ``InputError`` naming the file, saying
  in the format's own words that it looks truncated, and quoting none of its secrets;
- **detection**: every corpus file is detected as a format of its folder (``FOLDER_FORMATS``),
  and no format claims a file of another folder, with the exceptions tabled below (support files
  beside the evidence, empty reports that content cannot attribute);
- **schema**: every corpus file becomes a record valid against ``evidence.v1.schema.json`` whose
  id is the sha256 of its bytes, or is refused with an ``InputError`` that names it;
- **redaction**: every format with a ``redact`` hook turns each of its corpus files into bytes
  that are still that format (detected and collected again, with as many findings), the same
  bytes every time, and free of every secret the file carried (``SECRETS``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from affidavit.collectors import Artefact, CollectOptions, collect_document, registry
from affidavit.collectors.interface import NO
from affidavit.collectors.kinds.secrets import MIN_SCRUB_LENGTH, quotes_secret, secret_values
from affidavit.errors import InputError
from affidavit.model import Evidence
from tests.collectors.test_attestation import SUPPORT_FILES as IN_TOTO_SUPPORT_FILES
from tests.collectors.test_attestation import VSA_KEY
from tests.collectors.test_attestation import _options as attestation_options
from tests.collectors.test_cosign import PAYLOAD as COSIGN_PAYLOAD
from tests.collectors.test_registry import NOT_IN_CORPUS
from tests.collectors.test_sigstore_bundle import BUNDLES as SIGSTORE_BUNDLES
from tests.collectors.test_sigstore_bundle import SUPPORT_FILES as SIGSTORE_SUPPORT_FILES
from tests.collectors.test_sigstore_bundle import SUPPORT_NAMES as SIGSTORE_SUPPORT_NAMES
from tests.collectors.test_terraform_config import CHECKOV_EXAMPLE_SECRETS
from tests.conftest import CORPUS, GOLDEN, NOW, golden_text, validate_record
from tests.signatures.test_sigstore_conformance import case_options

# ---------------------------------------------------------------------------------------------
# The corpus, read once


@dataclass(frozen=True)
class CorpusFile:
    """One file an INDEX.json lists: ``folder/name`` under the corpus, and how its bytes parse."""

    folder: str
    name: str
    json: str | None  # the INDEX's "json" field: None when the bytes are not JSON (or JSON Lines)

    @property
    def rel(self) -> str:
        """``folder/name``: the name every contract test gives the file as its source."""
        return f"{self.folder}/{self.name}"

    @property
    def path(self) -> Path:
        """Where the file is."""
        return CORPUS / self.folder / self.name

    @property
    def raw(self) -> bytes:
        """The file's bytes."""
        return _raw(self.rel)


@cache
def _raw(rel: str) -> bytes:
    return (CORPUS / rel).read_bytes()


def _index() -> list[CorpusFile]:
    return [
        CorpusFile(index.parent.name, entry["file"], entry["json"])
        for index in sorted(CORPUS.glob("*/INDEX.json"))
        for entry in json.loads(index.read_text(encoding="utf-8"))
    ]


INDEXED = _index()
BY_REL = {f.rel: f for f in INDEXED}
FOLDERS = sorted({f.folder for f in INDEXED})
CORPUS_FILES = [f.path for f in INDEXED]
# Files beside the indexed ones, which no format may claim wherever they lie: the corpus README
# and each folder's INDEX.json and SOURCES.md.
UNINDEXED = sorted(
    rel
    for rel in (p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file())
    if rel not in BY_REL
)
OPTIONS = CollectOptions(now=NOW)


@cache
def _artefact(rel: str) -> Artefact:
    """One ``Artefact`` per file, shared by every detector call (each parses it once)."""
    return Artefact(rel, _raw(rel))


@cache
def detected(rel: str) -> str | None:
    """The format the full registry detects for a file, or None when no format claims it."""
    try:
        return registry.detect(_artefact(rel), OPTIONS).name
    except InputError:
        return None


@cache
def collected(rel: str) -> Evidence | InputError:
    """The record of a corpus file (read under the name ``folder/name``), or the error refusing it."""
    try:
        return collect_document(Artefact(rel, _raw(rel)), OPTIONS)
    except InputError as exc:
        return exc


def is_empty_report(raw: bytes) -> bool:
    """``null`` or ``[]``: the whole of a clean Trivy or Gitleaks report."""
    try:
        return json.loads(raw) in (None, [])
    except ValueError:
        return False


def _file_id(value: Any) -> str:
    return str(value.rel) if isinstance(value, CorpusFile) else str(value)


# ---------------------------------------------------------------------------------------------
# Detection: every file is read as a format of its folder, and no format reaches into another's

# What each corpus folder holds (a folder no format reads yet has none: its files must stay
# unclaimed until a format for them lands, with its own line here).
FOLDER_FORMATS: dict[str, frozenset[str]] = {
    "sbom-cyclonedx": frozenset({"cyclonedx-json", "cyclonedx-xml"}),
    "sbom-spdx": frozenset({"spdx-json", "spdx-tag-value"}),
    "scan-trivy": frozenset({"trivy-json"}),
    "scan-grype": frozenset({"grype-json"}),
    "scan-osv-scanner": frozenset({"osv-scanner-json"}),
    "scan-pip-audit": frozenset({"pip-audit-json"}),
    "scan-npm-audit": frozenset({"npm-audit-json"}),
    "scan-gitleaks": frozenset({"gitleaks-json"}),
    "scan-sarif": frozenset({"sarif"}),
    "scan-checkov": frozenset({"checkov-json"}),
    "scan-tfsec": frozenset({"tfsec-json"}),
    "terraform-plan": frozenset({"terraform-plan-json"}),
    "terraform-hcl": frozenset({"terraform-hcl"}),
    "branch-protection": frozenset(
        {"github-branch-protection", "github-rulesets", "octokit-recording", "legitify-json"}
    ),
    "branch-rules-github": frozenset({"github-branch-protection", "github-rulesets"}),
    "sigstore": frozenset(
        {
            "cosign-verify",
            "cosign-simplesigning",
            "cosign-signature-manifest",
            "sigstore-bundle",
            "sigstore-trusted-root",
            "in-toto-dsse",
        }
    ),
    "in-toto": frozenset(
        {"in-toto-dsse", "in-toto-statement", "sigstore-bundle", "gcloud-provenance", "npm-attestations"}
    ),
    "attestation-vsa": frozenset({"in-toto-dsse", "in-toto-statement"}),
    "deployments-github": frozenset(),
    "deployments-argocd": frozenset(),
    "oscal-assessment-results": frozenset(),
}

# Files of a folder that are not evidence, and why: no format may claim them.
_NOT_EVIDENCE: dict[str, str] = {
    "attestation-vsa/docker-attest-doi-signing-key.pem": "a public key the envelopes are verified with",
    "attestation-vsa/in-toto-bob.pub": "a public key the envelopes are verified with",
    "attestation-vsa/witness-testpub.pem": "a public key the envelopes are verified with",
    "branch-rules-github/octokit-webhooks-branch_protection_rule-created.1.json": (
        "a webhook event announcing a rule change, not the protection state of a branch"
    ),
    "branch-rules-github/webhooks-net-repository_ruleset-created.json": (
        "a webhook event announcing a ruleset change, not the protection state of a branch"
    ),
    "scan-osv-scanner/defectdojo-osv_scanner-no_findings.json": (
        "0 bytes: OSV-Scanner wrote nothing, which is refused as an empty file whatever the tool"
    ),
}


def not_evidence(file: CorpusFile) -> str | None:
    """Why a corpus file is not evidence (None when it is)."""
    if file.folder == "sigstore" and (
        file.name in SIGSTORE_SUPPORT_FILES or Path(file.name).name in SIGSTORE_SUPPORT_NAMES
    ):
        return "a support file of a signature (artefact, README, identity, key, certificate, signature)"
    if file.folder == "in-toto" and file.name in IN_TOTO_SUPPORT_FILES:
        return "the artefact or public key an attestation is checked against"
    return _NOT_EVIDENCE.get(file.rel)


# ``null`` and ``[]`` are the whole report of a clean Trivy scan and of a clean Gitleaks scan:
# content cannot tell them apart (the user passes --kind). These formats may claim such a file
# wherever it lies, and such a file of their folders may be detected as either of them.
EMPTY_REPORT_CLAIMANTS: dict[str, str] = {
    "gitleaks-json": "Gitleaks writes `[]` (v8) or `null` (v7) when it finds nothing",
    "trivy-json": "Trivy before SchemaVersion 2 writes `null` for a scan with no results",
}


def home_folders(format_name: str) -> set[str]:
    """The folders whose files a format may claim."""
    return {folder for folder, names in FOLDER_FORMATS.items() if format_name in names}


def test_every_folder_and_format_is_in_the_detection_table() -> None:
    assert set(FOLDER_FORMATS) == set(FOLDERS)
    names = {f.name for f in registry.formats()}
    listed = set().union(*FOLDER_FORMATS.values())
    assert listed <= names, sorted(listed - names)
    assert names - listed == set(NOT_IN_CORPUS), (
        "a format the corpus has no sample of says so in NOT_IN_CORPUS"
    )
    assert set(EMPTY_REPORT_CLAIMANTS) <= names
    assert set(_NOT_EVIDENCE) <= set(BY_REL), "an exception names a file the corpus does not list"
    assert {"README.md", "scan-trivy/INDEX.json", "scan-trivy/SOURCES.md"} <= set(UNINDEXED)


@pytest.mark.parametrize("file", INDEXED, ids=_file_id)
def test_file_is_detected_as_a_format_of_its_folder(file: CorpusFile) -> None:
    formats = FOLDER_FORMATS[file.folder]
    found = detected(file.rel)
    reason = not_evidence(file)
    if reason is not None or not formats:
        claimed = [f.name for f in registry.formats() if f.detect(_artefact(file.rel)) != NO]
        assert claimed == [], f"{file.rel} ({reason or 'no format reads this folder'}) is claimed"
        return
    if is_empty_report(file.raw):
        assert found in EMPTY_REPORT_CLAIMANTS, (file.rel, found)
        # the folder's own format still recognises it (the other claimant may score higher)
        assert all(registry.format_by_name(name).detect(_artefact(file.rel)) > NO for name in formats)
        return
    assert found in formats, f"{file.rel} is detected as {found}, not one of {sorted(formats)}"


@pytest.mark.parametrize("name", [f.name for f in registry.formats()])
def test_no_format_claims_a_file_of_another_folder(name: str) -> None:
    fmt = registry.format_by_name(name)
    homes = home_folders(name)
    claimed: list[str] = []
    checked = 0
    for rel in [f.rel for f in INDEXED if f.folder not in homes] + UNINDEXED:
        raw = _raw(rel)
        if name in EMPTY_REPORT_CLAIMANTS and is_empty_report(raw):
            continue
        checked += 1
        if fmt.detect(_artefact(rel)) != NO:
            claimed.append(rel)
    assert claimed == [], f"{name} claims files of other folders"
    assert checked > 150


# ---------------------------------------------------------------------------------------------
# Golden records: one table, one helper

CORPUS_MARK = "<corpus>"  # replaces the corpus location in a record (a verified artefact's path)
# The signature and provenance goldens were first written with sorted keys; they keep that form
# so that the files stay byte for byte what they are. Every other golden keeps the record's order.
SORTED_KINDS = frozenset({"signature", "provenance"})
RECORD_KEYS = [
    "schema",
    "id",
    "kind",
    "format",
    "format_version",
    "tool",
    "subject",
    "source",
    "collected_at",
    "effective_at",
    "data",
    "problems",
]


def _options(**values: Any) -> Callable[[], CollectOptions]:
    return lambda: CollectOptions(now=NOW, **values)


@dataclass(frozen=True)
class Golden:
    """Where a golden record comes from.

    ``input`` is a corpus file (``folder/name``) unless ``not_in_corpus`` says why the input is an
    example kept under ``tests/golden`` instead (``input`` is then relative to it). ``source`` is
    the name the record gives its source (by default ``input``); ``options`` the read settings.
    """

    format: str
    input: str
    source: str | None = None
    options: Callable[[], CollectOptions] = _options()
    not_in_corpus: str | None = None

    @property
    def input_path(self) -> Path:
        """The input's file."""
        return (GOLDEN if self.not_in_corpus else CORPUS) / self.input

    @property
    def source_name(self) -> str:
        """The record's ``source``."""
        return self.source or self.input

    def collect(self) -> Evidence:
        """The input's record, read as the golden was."""
        doc = Artefact(self.source_name, self.input_path.read_bytes())
        return collect_document(doc, self.options())


def _case(case: str) -> Golden:
    """A Sigstore conformance case's bundle, read with the case's own settings."""
    return Golden(
        "sigstore-bundle",
        f"sigstore/sigstore-conformance/{case}/bundle.sigstore.json",
        source=f"sigstore-conformance/{case}/bundle.sigstore.json",
        options=lambda: case_options(case),
    )


def _attestation(name: str, **values: Any) -> Callable[[], CollectOptions]:
    """The settings ``test_attestation`` verifies an in-toto corpus file with."""
    return lambda: CollectOptions(now=NOW, **attestation_options(name), **values)


# tests/golden/<kind>/<file> -> its input. Names follow the helpers that first wrote them.
GOLDENS: dict[str, Golden] = {
    "branch-protection/gh-cli-rulesetCheck.record.json": Golden(
        "github-rulesets", "branch-protection/gh-cli-rulesetCheck.json"
    ),
    "branch-protection/github3py-get-protection-2017.record.json": Golden(
        "github-branch-protection", "branch-protection/github3py-get-protection-2017.json"
    ),
    "branch-protection/octokit-fixtures-put-protection-full-response.record.json": Golden(
        "github-branch-protection", "branch-protection/octokit-fixtures-put-protection-full-response.json"
    ),
    "change-record/prod-release-approved.record.json": Golden(
        "affidavit-change-record",
        "change-record/examples/prod-release-approved.json",
        source="examples/prod-release-approved.json",
        not_in_corpus=NOT_IN_CORPUS["affidavit-change-record"],
    ),
    "change-record/github-run-approvals.record.json": Golden(
        "github-deployment-approvals",
        "change-record/examples/github-run-approvals.json",
        source="examples/github-run-approvals.json",
        not_in_corpus=NOT_IN_CORPUS["github-deployment-approvals"],
    ),
    "provenance/gcloud-gcb.json": Golden(
        "gcloud-provenance", "in-toto/slsa-verifier-gcb-v0.3-gcloud-container-github.json"
    ),
    "provenance/guac-kubectl-statement.json": Golden(
        "in-toto-statement", "in-toto/guac-oci-kubectl-linux-amd64-in-toto.json"
    ),
    "provenance/npm-gundam-attestations.json": Golden(
        "npm-attestations", "in-toto/slsa-verifier-npm-gundam-visor-cli-v1-tag.tgz.json"
    ),
    "provenance/slsa-verifier-bcr-MODULE.bazel.json": Golden(
        "sigstore-bundle",
        "in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl",
        options=_attestation("slsa-verifier-bcr-MODULE.bazel.intoto.jsonl"),
    ),
    "provenance/slsa-verifier-gha_go-v1.2.2.json": Golden(
        "in-toto-dsse", "in-toto/slsa-verifier-gha_go-v1.2.2-binary-linux-amd64-push-v14.intoto.jsonl"
    ),
    "provenance/slsa-verifier-vsa-gke-gce-pre.json": Golden(
        "in-toto-dsse",
        "in-toto/slsa-verifier-vsa-gke-gce-pre.bcid-vsa.jsonl",
        options=_options(public_key=VSA_KEY),
    ),
    "sast/defectdojo-checkov-report-severity.json": Golden(
        "checkov-json", "scan-checkov/defectdojo-checkov-report-severity.json"
    ),
    "sast/mitre-saf-checkov_with_skips.json": Golden(
        "checkov-json", "scan-checkov/mitre-saf-checkov_with_skips.json"
    ),
    "sast/defectdojo-tfsec-many_findings_current.json": Golden(
        "tfsec-json", "scan-tfsec/defectdojo-tfsec-many_findings_current.json"
    ),
    "sast/defectdojo-tfsec-many_findings_legacy.json": Golden(
        "tfsec-json", "scan-tfsec/defectdojo-tfsec-many_findings_legacy.json"
    ),
    "sast/gitleaks-sarif_simple_sarif.json": Golden("sarif", "scan-sarif/gitleaks-sarif_simple.sarif"),
    "sast/trivy-alpine-310_sarif.json": Golden("sarif", "scan-sarif/trivy-alpine-310.sarif"),
    "sbom/cdx-pylib-get_bom_with_component_setuptools_complete-1.2.xml.json": Golden(
        "cyclonedx-xml", "sbom-cyclonedx/cdx-pylib-get_bom_with_component_setuptools_complete-1.2.xml"
    ),
    "sbom/guac-laravel-cyclonedx.xml.json": Golden(
        "cyclonedx-xml", "sbom-cyclonedx/guac-laravel-cyclonedx.xml"
    ),
    "sbom/mitre-saf-syft-scan-alpine-container.json.json": Golden(
        "cyclonedx-json", "sbom-cyclonedx/mitre-saf-syft-scan-alpine-container.json"
    ),
    "sbom/trivy-pom-cyclonedx.json.json": Golden("cyclonedx-json", "sbom-cyclonedx/trivy-pom-cyclonedx.json"),
    "sbom/cosign-bom-go-mod.spdx.json": Golden("spdx-tag-value", "sbom-spdx/cosign-bom-go-mod.spdx"),
    "sbom/spdx-tools-python-SPDXJSONExample-v2.3.spdx.json.json": Golden(
        "spdx-json", "sbom-spdx/spdx-tools-python-SPDXJSONExample-v2.3.spdx.json"
    ),
    "sbom/spdx-tools-python-SPDXTagExample-v2.3.spdx.json": Golden(
        "spdx-tag-value", "sbom-spdx/spdx-tools-python-SPDXTagExample-v2.3.spdx"
    ),
    "sbom/witness-sbom.spdx.json.json": Golden("spdx-json", "sbom-spdx/witness-sbom.spdx.json"),
    "secret-scan/defectdojo-gitleaks-version_7.5.0.json": Golden(
        "gitleaks-json", "scan-gitleaks/defectdojo-gitleaks-version_7.5.0.json"
    ),
    "secret-scan/defectdojo-gitleaks8_many.json": Golden(
        "gitleaks-json", "scan-gitleaks/defectdojo-gitleaks8_many.json"
    ),
    "signature/conformance-managed-key-happy-path.json": _case("managed-key-happy-path"),
    "signature/conformance-signature-mismatch_fail.json": _case("signature-mismatch_fail"),
    "signature/cosign-signature-manifest.json": Golden(
        "cosign-signature-manifest",
        "sigstore/conforma-cli-cosign-signature-manifest.json",
        options=_options(payload=COSIGN_PAYLOAD),
    ),
    "signature/cosign-simplesigning-payload.json": Golden(
        "cosign-simplesigning", "sigstore/conforma-cli-cosign-simplesigning-payload.json"
    ),
    "signature/cosign-verify-2022-11.json": Golden(
        "cosign-verify", "sigstore/chainguard-hello-world-cosign-verify-2022-11.json"
    ),
    "signature/sigstore-python-bundle_v3.json": Golden(
        "sigstore-bundle",
        "sigstore/sigstore-python-bundle_v3.txt.sigstore",
        options=_options(**SIGSTORE_BUNDLES["sigstore-python-bundle_v3.txt.sigstore"]["options"]),
    ),
    "terraform-config/conftest-gke.record.json": Golden("terraform-hcl", "terraform-hcl/conftest-gke.tf"),
    "terraform-config/opentofu-show-json-sensitive-values-main.record.json": Golden(
        "terraform-hcl", "terraform-hcl/opentofu-show-json-sensitive-values-main.tf"
    ),
    "terraform-plan/checkov-plan_with_deleted_resources-tfplan.record.json": Golden(
        "terraform-plan-json", "terraform-plan/checkov-plan_with_deleted_resources-tfplan.json"
    ),
    "terraform-plan/opentofu-show-json-sensitive-values.record.json": Golden(
        "terraform-plan-json", "terraform-plan/opentofu-show-json-sensitive-values.json"
    ),
    "vulnerability-scan/defectdojo-grype-many_vulns_with_epss_values.json": Golden(
        "grype-json", "scan-grype/defectdojo-grype-many_vulns_with_epss_values.json"
    ),
    "vulnerability-scan/grype-explain-keycloak-test.json": Golden(
        "grype-json", "scan-grype/grype-explain-keycloak-test.json"
    ),
    "vulnerability-scan/defectdojo-npm_audit-one_vuln.json": Golden(
        "npm-audit-json", "scan-npm-audit/defectdojo-npm_audit-one_vuln.json"
    ),
    "vulnerability-scan/defectdojo-npm_audit_7_plus-many_vulns.json": Golden(
        "npm-audit-json", "scan-npm-audit/defectdojo-npm_audit_7_plus-many_vulns.json"
    ),
    "vulnerability-scan/defectdojo-osv_scanner-some_findings.json": Golden(
        "osv-scanner-json", "scan-osv-scanner/defectdojo-osv_scanner-some_findings.json"
    ),
    "vulnerability-scan/defectdojo-pip_audit-many_vulns_new.json": Golden(
        "pip-audit-json", "scan-pip-audit/defectdojo-pip_audit-many_vulns_new.json"
    ),
    "vulnerability-scan/defectdojo-trivy-kubernetes.json": Golden(
        "trivy-json", "scan-trivy/defectdojo-trivy-kubernetes.json"
    ),
    "vulnerability-scan/trivy-alpine-310.json": Golden("trivy-json", "scan-trivy/trivy-alpine-310.json"),
}

# Formats with no golden record, and why.
NO_GOLDEN: dict[str, str] = {
    # formats that recognise a shape only to refuse it with a precise message: no record to pin
    "sigstore-trusted-root": "trust roots are configuration (--trusted-root), not evidence",
    "octokit-recording": "a recording of several API calls is not one protection state",
    "legitify-json": "Legitify's verdicts are not settings",
    "github-graphql-branch-protection": NOT_IN_CORPUS["github-graphql-branch-protection"],
}


def check_golden(name: str) -> None:
    """The record of ``GOLDENS[name]``'s input is, byte for byte, the file ``tests/golden/<name>``.

    The record is validated against the evidence schema first, and so is the stored golden. With
    ``AFFIDAVIT_UPDATE_GOLDENS=1`` the golden is rewritten from the record instead (``golden_text``).
    """
    golden = GOLDENS[name]
    kind = name.split("/", 1)[0]
    sort_keys = kind in SORTED_KINDS
    document = validate_record(golden.collect())
    document = json.loads(json.dumps(document).replace(str(CORPUS), CORPUS_MARK))
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
    stored_text = golden_text(text, GOLDEN / name)
    stored = validate_record(json.loads(stored_text))
    assert list(stored) == (sorted(RECORD_KEYS) if sort_keys else RECORD_KEYS)
    assert (stored["schema"], stored["kind"], stored["format"]) == (
        "affidavit.evidence/v1",
        kind,
        golden.format,
    )
    assert stored["source"] == golden.source_name
    assert text == stored_text


def _golden_files() -> set[str]:
    return {
        p.relative_to(GOLDEN).as_posix()
        for p in GOLDEN.rglob("*.json")
        if "examples" not in p.relative_to(GOLDEN).parts
    }


def test_every_golden_file_is_in_the_table() -> None:
    assert _golden_files() == set(GOLDENS)


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_input_is_a_corpus_file_or_says_why(name: str) -> None:
    golden = GOLDENS[name]
    assert golden.input_path.is_file(), golden.input_path
    if golden.not_in_corpus is None:
        assert golden.input in BY_REL, f"{golden.input} is not a file any INDEX.json lists"
        assert detected(golden.input) == golden.format
    else:
        assert golden.input_path.is_relative_to(GOLDEN / name.split("/", 1)[0] / "examples")
        assert golden.format in NOT_IN_CORPUS, "a format met in the corpus takes its golden from it"


def test_every_producing_format_has_a_golden() -> None:
    names = {f.name for f in registry.formats()}
    pinned = {g.format for g in GOLDENS.values()}
    assert pinned <= names
    assert names - pinned == set(NO_GOLDEN), "a format with no golden says why in NO_GOLDEN"


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name: str) -> None:
    check_golden(name)


# ---------------------------------------------------------------------------------------------
# Truncation: a file cut short is refused, by name, in the format's words, without its secrets

# What a cut file is told, for a file that is read whole. JSON (and JSON Lines) by default.
JSON_CUT = r"JSON ends early at line \d+ column \d+ \(.+\): the file looks truncated"
CUT_SAYS: dict[str, str] = {
    "spdx-json": r"SPDX JSON ends early at line \d+ column \d+ \(.+\): the file looks truncated",
    "cyclonedx-xml": r"CycloneDX XML ends early at line \d+ column \d+: the file looks truncated",
    # tag-value has no end marker: a cut is seen by the last line having no line break
    "spdx-tag-value": r"does not end with a line break: the file looks truncated",
    # HCL has no end marker either, and a file cut between two blocks is a shorter valid file: a
    # .tf source is cut in the middle only, where every corpus file is inside a block (refused as
    # HCL that does not parse), or is left with nothing a detector recognises
    "terraform-hcl": r"is not valid HCL: .* at line \d+, column \d+|not a format affidavit knows",
}
CUT_IN_THE_MIDDLE_ONLY = frozenset({"terraform-hcl"})
# The setup-terraform wrapper repeats the plan JSON in its ::debug:: and ::set-output lines, so
# the file cut anywhere after line 2 still holds a whole plan: it is cut inside line 2 instead.
WRAPPED_PLANS: dict[str, str] = {
    "terraform-plan/infracost-plan_with_terraform_wrapper.json": (
        r"the plan JSON after the setup-terraform wrapper's '\[command\]' line is broken"
    ),
}
# Wordings this contract found wanting, reported and not changed here (the collectors are not the
# tests' to edit): a cut of the file that ends inside a CDATA section may be told this instead. An
# entry that no cut needs any more fails the test, so that it is dropped when the wording is fixed.
KNOWN_GAPS: dict[str, tuple[str, str]] = {
    "sbom-cyclonedx/guac-laravel-cyclonedx.xml": (
        r"is not well-formed XML: unclosed CDATA section",
        "formats/cyclonedx.py tells a cut as truncated on expat's 'no element found' and 'unclosed"
        " token' only; a cut inside a CDATA section ('unclosed CDATA section') is called not well-formed",
    ),
}
# `null` cut short is no longer JSON ("nu"); `[]` cut short is JSON cut short ("[")
EMPTY_REPORT_CUT = JSON_CUT + "|not a format affidavit knows"


def cuts(file: CorpusFile, format_name: str) -> list[bytes]:
    """``file`` cut short: at 10, 50, 73 and 90 % of its content and one byte before its end.

    A cut never ends in white space (a line-based format cut at a line break is a shorter
    valid file). A ``.tf`` source is cut in the middle only (see ``CUT_SAYS``); a wrapped plan
    inside its plan JSON line (see ``WRAPPED_PLANS``).
    """
    raw = file.raw
    start, end = 0, len(raw.rstrip())
    if file.rel in WRAPPED_PLANS:
        start = raw.index(b"\n") + 1
        end = raw.index(b"\n", start)
    size = end - start
    if format_name in CUT_IN_THE_MIDDLE_ONLY:
        points = {start + size // 2}
    else:
        points = {start + max(1, int(size * f)) for f in (0.1, 0.5, 0.73, 0.9)} | {end - 1}
    out = [raw[:p].rstrip() for p in sorted(points)]
    return [cut for cut in out if cut and len(cut) < end]


def cut_says(file: CorpusFile, format_name: str) -> str:
    """The words a cut of ``file`` must be refused with (when the whole file is read)."""
    if file.rel in WRAPPED_PLANS:
        return WRAPPED_PLANS[file.rel]
    assert file.json is not None or format_name in CUT_SAYS, f"what does a cut {format_name} file say?"
    if is_empty_report(file.raw):
        return EMPTY_REPORT_CUT
    return CUT_SAYS.get(format_name, JSON_CUT)


TRUNCATED = [f for f in INDEXED if not_evidence(f) is None and detected(f.rel) is not None]


def test_every_format_of_the_corpus_is_cut() -> None:
    cut_formats = {detected(f.rel) for f in TRUNCATED}
    met = {name for names in FOLDER_FORMATS.values() for name in names}
    assert cut_formats == met
    assert set(CUT_SAYS) <= cut_formats
    assert set(WRAPPED_PLANS) | set(KNOWN_GAPS) <= {f.rel for f in TRUNCATED}


@pytest.mark.parametrize("file", TRUNCATED, ids=_file_id)
def test_file_cut_short_is_refused_by_name(file: CorpusFile) -> None:
    format_name = detected(file.rel)
    assert format_name is not None
    whole_is_read = isinstance(collected(file.rel), Evidence)
    secrets = secrets_of(format_name, file)
    pieces = cuts(file, format_name)
    assert pieces, file.rel
    gaps = 0
    for cut in pieces:
        with pytest.raises(InputError) as caught:
            collect_document(Artefact(file.rel, cut), OPTIONS)
        text = caught.value.diagnostics()
        where = f"{file.rel} cut to {len(cut)} of {len(file.raw)} bytes"
        assert caught.value.source == file.rel, where
        assert text.startswith(f"{file.rel}: ") and len(text) < 2000, where
        # a file refused whole may be refused for its own reason first: it owes only its name
        if whole_is_read and not re.search(cut_says(file, format_name), text):
            gap = KNOWN_GAPS.get(file.rel)
            assert gap is not None and re.search(gap[0], text), f"{where}: {text}"
            assert cut.count(b"<![CDATA[") > cut.count(b"]]>"), f"{where}: the gap is a cut inside CDATA only"
            gaps += 1
        assert not leaked(secrets, text + str(caught.value)), where
    assert (gaps > 0) is (file.rel in KNOWN_GAPS), "the wording gap is closed: drop its KNOWN_GAPS entry"


# ---------------------------------------------------------------------------------------------
# Secrets a corpus file carries, per format that has a redaction hook (read here, independently
# of the hook: a scanner report's secret fields, a plan's values its *_sensitive marks point at,
# Checkov's quoted code lines, the literals written in clear in a .tf source)


def _scanner_secrets(file: CorpusFile) -> set[str]:
    return secret_values(file.raw, file.rel)


def _checkov_secrets(file: CorpusFile) -> set[str]:
    value = json.loads(file.raw)
    found: set[str] = set()
    for report in value if isinstance(value, list) else [value]:
        every_line = report.get("check_type") == "secrets"
        results = report.get("results") or {}
        for key in ("failed_checks", "passed_checks", "skipped_checks"):
            for check in results.get(key) or []:
                for _, line in check.get("code_block") or []:
                    body = line.rstrip("\r\n")
                    if body.strip() and (every_line or quotes_secret(body)):
                        found.add(body)
    return found


def _marked(value: Any, marks: Any) -> list[Any]:
    """The leaves of ``value`` that a Terraform ``*_sensitive`` mirror ``marks`` as sensitive."""
    if marks is True:
        if isinstance(value, dict | list):
            items = value.values() if isinstance(value, dict) else value
            return [leaf for item in items for leaf in _marked(item, True)]
        return [value]
    if isinstance(marks, dict) and isinstance(value, dict):
        return [leaf for key, mark in marks.items() if key in value for leaf in _marked(value[key], mark)]
    if isinstance(marks, list) and isinstance(value, list):
        return [leaf for item, mark in zip(value, marks, strict=False) for leaf in _marked(item, mark)]
    return []


def _plan_secrets(file: CorpusFile) -> set[str]:
    text = file.raw.decode("utf-8")
    if text.startswith("[command]"):  # the setup-terraform wrapper: the plan is its first JSON line
        text = next(line for line in text.splitlines() if line.startswith("{"))
    plan = json.loads(text)
    changes = [
        rc.get("change") or {} for key in ("resource_changes", "resource_drift") for rc in plan.get(key) or []
    ]
    changes += list((plan.get("output_changes") or {}).values())
    return {
        leaf
        for change in changes
        for side in ("before", "after")
        for leaf in _marked(change.get(side), change.get(f"{side}_sensitive"))
        if isinstance(leaf, str)
    }


# The literals the corpus .tf sources hold in clear (read from the files; a test checks they are)
HCL_SECRETS: dict[str, tuple[str, ...]] = {
    "checkov-example.tf": CHECKOV_EXAMPLE_SECRETS,
    "opentofu-show-json-sensitive-values-main.tf": ("boop",),  # a variable declared sensitive
}

SECRETS: dict[str, Callable[[CorpusFile], set[str]]] = {
    "trivy-json": _scanner_secrets,
    "gitleaks-json": _scanner_secrets,
    "sarif": _scanner_secrets,
    "checkov-json": _checkov_secrets,
    "terraform-plan-json": _plan_secrets,
    "terraform-hcl": lambda file: set(HCL_SECRETS.get(file.name, ())),
}
# Formats with a redaction hook whose corpus files carry no secret, and where the hook is tested
NO_SECRET_IN_CORPUS: dict[str, str] = {
    "checkov-json": "no corpus Checkov report quotes a credential; test_checkov's redactor tests build one",
}


def secrets_of(format_name: str, file: CorpusFile) -> set[str]:
    """The secrets ``file`` carries, if its format is one that can carry secrets."""
    finder = SECRETS.get(format_name)
    return set() if finder is None else finder(file)


def leaked(secrets: set[str], text: str) -> list[str]:
    """The secrets found in ``text``, as they are or JSON-escaped.

    Values shorter than ``MIN_SCRUB_LENGTH`` are replaced where they are a whole field, never
    searched for inside other text (kinds.secrets), so they are not searched for here either.
    """
    return sorted(
        s for s in secrets if len(s) >= MIN_SCRUB_LENGTH and (s in text or json.dumps(s)[1:-1] in text)
    )


# ---------------------------------------------------------------------------------------------
# Redaction: what a bundle stores of a raw artefact

# Where a record of each kind a redacting format yields keeps its items
COUNTED: dict[str, str] = {
    "vulnerability-scan": "findings",
    "secret-scan": "findings",
    "sast": "findings",
    "terraform-plan": "resource_changes",
    "terraform-config": "resources",
}
REDACTABLE = [f for f in TRUNCATED if detected(f.rel) in registry.redactors()]


def test_every_redactor_is_in_the_tables() -> None:
    redacting = {f.name: f for f in registry.formats() if f.redact is not None}
    assert set(SECRETS) == set(redacting)
    assert {f.kind.value for f in redacting.values()} <= set(COUNTED)
    assert set(NO_SECRET_IN_CORPUS) <= set(redacting)
    for name, values in HCL_SECRETS.items():
        raw = _raw(f"terraform-hcl/{name}")
        assert all(value.encode() in raw for value in values), f"{name} does not hold what HCL_SECRETS says"


@pytest.mark.parametrize("file", REDACTABLE, ids=_file_id)
def test_redacted_file_is_the_same_format_without_its_secrets(file: CorpusFile) -> None:
    name = detected(file.rel)
    assert name is not None
    hook = registry.redactor(name)
    assert hook is not None
    stored = hook(file.raw, file.rel)
    assert hook(file.raw, file.rel) == stored, "redaction must give the same bytes every time"
    secrets = secrets_of(name, file)
    assert leaked(secrets, stored.decode("utf-8", "replace")) == []
    original = collected(file.rel)
    try:
        again = collect_document(Artefact(file.rel, stored), OPTIONS)
    except InputError as exc:
        assert isinstance(original, InputError), f"{file.rel} is refused once redacted: {exc}"
        return
    assert isinstance(original, Evidence), f"{file.rel} is refused whole but read once redacted"
    assert (again.kind, again.format) == (original.kind, original.format)
    items = COUNTED[original.kind.value]
    assert len(again.data[items]) == len(original.data[items])
    assert again.data.get("summary") == original.data.get("summary")
    for record in (original, again):
        assert leaked(secrets, json.dumps(record.to_json(), ensure_ascii=False)) == []


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_redaction_is_exercised_by_the_corpus(name: str) -> None:
    carrying = [
        f for f in REDACTABLE if detected(f.rel) == name and leaked(secrets_of(name, f), f.raw.decode())
    ]
    if name in NO_SECRET_IN_CORPUS:
        assert carrying == [], f"{name}: the corpus now has a file with secrets; drop the exception"
        return
    assert carrying, f"no corpus file of {name} carries a secret: the redaction test proves nothing"
    hook = registry.redactor(name)
    assert hook is not None
    assert all(hook(f.raw, f.rel) != f.raw for f in carrying)


# ---------------------------------------------------------------------------------------------
# Schema: every corpus file, through the public entry point, against the public schema


@cache
def _gitleaks_secrets() -> frozenset[str]:
    """Every secret, match and offender string of the gitleaks corpus, read independently."""
    values: set[str] = set()
    for path in (CORPUS / "scan-gitleaks").glob("*.json"):
        if path.name == "INDEX.json":
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        for item in doc or []:
            for key in ("Secret", "Match", "offender", "secret", "match", "line", "Line"):
                value = item.get(key)
                if isinstance(value, str) and len(value.strip()) >= 6:
                    values.add(value.strip())
    return frozenset(values)


def _collect(path: Path) -> Any:
    options = CollectOptions(now=NOW)
    doc = Artefact.from_path(path, source=str(path.relative_to(CORPUS.parent)))
    return collect_document(doc, options)


def test_corpus_is_there() -> None:
    assert len(CORPUS_FILES) > 200, "the shared corpus should list a few hundred files"


@pytest.mark.parametrize(
    "path",
    CORPUS_FILES,
    ids=lambda p: (
        f"{p.parent.name}/{p.name}"
        if p.parent.parent == CORPUS
        else f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
    ),
)
def test_file_normalises_to_schema_or_is_refused_by_name(path: Path) -> None:
    source = str(path.relative_to(CORPUS.parent))
    try:
        record = _collect(path)
    except InputError as exc:
        text = exc.diagnostics()
        assert source in text, f"the error must name the file: {text}"
        assert len(text) < 2000
        for secret in _gitleaks_secrets():
            assert secret not in text
        return
    document = record.to_json()
    validate_record(document)
    assert record.id == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.source == source
    text = json.dumps(document)
    raw_text = path.read_bytes().decode("utf-8", "replace")
    for secret in _gitleaks_secrets():
        if path.parent.name != "scan-gitleaks" and secret in raw_text:
            continue  # ordinary words in another tool's file ("a secret" in a rule's help text)
        assert secret not in text, f"a gitleaks secret leaked into the record of {source}"
    # deterministic: a second read gives the same record
    assert json.dumps(_collect(path).to_json(), sort_keys=True) == json.dumps(document, sort_keys=True)


def test_detection_never_uses_the_file_name(tmp_path: Path) -> None:
    """The same bytes under a misleading name get the same kind and format."""
    checked = 0
    for path in CORPUS_FILES[::7]:
        try:
            original = _collect(path)
        except InputError:
            continue
        renamed = tmp_path / re.sub(r"[^a-z]", "", "renamed")
        renamed.write_bytes(path.read_bytes())
        doc = Artefact.from_path(renamed, source="renamed")
        other = collect_document(doc, CollectOptions(now=NOW))
        assert (other.kind, other.format) == (original.kind, original.format), path.name
        checked += 1
    assert checked > 10


@pytest.mark.parametrize(
    ("folder", "name", "path", "value"),
    [
        (
            "branch-protection",
            "github3py-branch_protection_example.json",
            ("required_status_checks", "contexts"),
            True,
        ),
        ("scan-npm-audit", "defectdojo-npm_audit-one_vuln.json", ("advisories", "146", "cves"), -1),
        (
            "scan-grype",
            "defectdojo-grype-check_all_fields.json",
            ("matches", 0, "vulnerability", "fix", "versions"),
            7,
        ),
        (
            "terraform-plan",
            "opentofu-show-json-moved.json",
            ("prior_state", "values", "root_module", "resources"),
            7,
        ),
        ("scan-gitleaks", "gitleaks-json_simple.json", (0, "StartLine"), {"a": [1]}),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_the_file(
    folder: str, name: str, path: tuple[Any, ...], value: Any
) -> None:
    """Found by mutating corpus files: every such shape must end as an InputError, never a crash."""
    doc = json.loads((CORPUS / folder / name).read_bytes())
    cursor = doc
    for key in path[:-1]:
        cursor = cursor[key]
    cursor[path[-1]] = value
    try:
        collect_document(Artefact(f"mutated/{name}", json.dumps(doc).encode()), CollectOptions(now=NOW))
    except InputError as exc:
        assert f"mutated/{name}" in exc.diagnostics()


def test_damaged_utf8_is_an_error_naming_the_file() -> None:
    raw = bytearray((CORPUS / "scan-trivy" / "trivy-npm.json").read_bytes())
    raw[len(raw) // 2] = 0xF0
    raw[len(raw) // 2 + 1] = 0x28
    with pytest.raises(InputError, match=r"damaged/trivy-npm\.json: .*not valid utf-8"):
        collect_document(Artefact("damaged/trivy-npm.json", bytes(raw)), CollectOptions(now=NOW))
