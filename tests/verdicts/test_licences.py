"""False-verdict scenarios, area "licences" (issue 10).

Each scenario is the demo GO release with one component added to (or changed in) its CycloneDX 1.5
SBOM (``syft -o cyclonedx-json``), written in the specification's shape: a component's
``licenses`` is a list of entries, each either ``{"license": {"id" | "name"}}`` or
``{"expression": "<SPDX expression>"}`` (CycloneDX 1.5/1.6 JSON schema, ``licenseChoice``). The
meaning of an expression is the SPDX specification's (SPDX 2.3 Annex D, "SPDX License
Expressions"): ``OR`` is the licensee's choice, ``AND`` both apply, ``WITH`` adds an exception,
``+`` means "this version or any later one"; deprecated ids (``GPL-3.0``, ``AGPL-3.0``) are those
the SPDX License List marks deprecated in favour of ``-only``/``-or-later`` (list 3.0).

The shipped prod rule data forbids the AGPL family, SSPL-1.0, BUSL-1.1, CC-BY-NC(-SA)-4.0 and
Commons-Clause; a licence given as a name is insufficient evidence in prod.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.verdicts.support import Change, Scenario, check, edit_json, ids

AREA = "licences"
RULE = "supply_chain.forbidden_licenses"
SBOM = "sbom.cdx.json"
CDX = "CycloneDX 1.5 JSON schema: component.licenses is licenseChoice (license {id|name} or expression)"
SPDX_EXPR = (
    "SPDX 2.3 Annex D: SPDX license expressions (OR is a choice, AND both, WITH an exception, + or later)"
)
SPDX_DEPRECATED = (
    "SPDX License List 3.x: GPL-2.0/GPL-3.0/AGPL-3.0 and the '+' forms deprecated for -only / -or-later"
)
CDX_16 = "CycloneDX 1.6 JSON schema: a licenseChoice item is a license object OR an expression, never both"


def _component(name: str, version: str, licenses: list[dict[str, Any]]) -> dict[str, Any]:
    """A component in the shape syft writes it (the demo SBOM's own)."""
    return {
        "bom-ref": f"pkg:npm/{name}@{version}",
        "type": "library",
        "name": name,
        "version": version,
        "licenses": licenses,
        "purl": f"pkg:npm/{name}@{version}",
        "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
    }


def _add(*licenses: dict[str, Any], name: str = "pdf-render-kit", version: str = "3.2.1") -> Change:
    """Add one component with ``licenses`` to the SBOM."""

    def edit(doc: dict[str, Any]) -> None:
        doc["components"].append(_component(name, version, list(licenses)))

    return edit_json(SBOM, edit)


def lid(value: str) -> dict[str, Any]:
    """A licence entry by SPDX id."""
    return {"license": {"id": value}}


def lname(value: str) -> dict[str, Any]:
    """A licence entry by name."""
    return {"license": {"name": value}}


def expr(value: str) -> dict[str, Any]:
    """A licence entry as an SPDX expression."""
    return {"expression": value}


def _fail(sid: str, change: Change, why: str, cite: str = SPDX_EXPR, **kw: Any) -> Scenario:
    return Scenario(sid, AREA, RULE, change, "fail", cite, why, **kw)


def _unknown(sid: str, change: Change, why: str, cite: str = CDX, **kw: Any) -> Scenario:
    return Scenario(sid, AREA, RULE, change, "insufficient_evidence", cite, why, **kw)


def _pass(sid: str, change: Change, why: str, cite: str = SPDX_EXPR, **kw: Any) -> Scenario:
    return Scenario(sid, AREA, RULE, change, "pass", cite, why, decision="GO", **kw)


def _relicense(name: str, licenses: list[dict[str, Any]]) -> Change:
    """Give the demo component ``name`` other licences (a dependency relicensed upstream)."""

    def edit(doc: dict[str, Any]) -> None:
        for comp in doc["components"]:
            if comp["name"] == name:
                comp["licenses"] = licenses

    return edit_json(SBOM, edit)


SPDX = "SPDX 2.3: 6.3 document SPDXID is SPDXRef-DOCUMENT, 7.1 PackageName mandatory, 7.2 SPDXRef-[idstring]"
PRESENT = "supply_chain.sbom_present"


def _spdx_from_demo(edit: Any = None, licence: str | None = None) -> Change:
    """Replace the CycloneDX SBOM with the same inventory as SPDX 2.3 JSON (``syft -o spdx-json``
    shape: the image as a described CONTAINER package with its SHA256, every component a package
    with a purl external reference and concluded/declared licences), then apply ``edit``."""

    def change(folder: Any) -> None:
        cdx = json.loads((folder / SBOM).read_text())
        (folder / SBOM).unlink()
        image = cdx["metadata"]["component"]
        packages = [
            {
                "SPDXID": "SPDXRef-DocumentRoot-Image-shop",
                "name": image["name"],
                "versionInfo": image["version"],
                "primaryPackagePurpose": "CONTAINER",
                "downloadLocation": "NOASSERTION",
                "checksums": [{"algorithm": "SHA256", "checksumValue": image["hashes"][0]["content"]}],
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": image["purl"],
                    }
                ],
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
            }
        ]
        rels = [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": packages[0]["SPDXID"],
            }
        ]
        for i, comp in enumerate(cdx["components"]):
            entry = comp["licenses"][0]
            declared = entry.get("expression") or entry["license"]["id"]
            if licence is not None and i == 0:
                declared = licence
            pid = f"SPDXRef-Package-python-{comp['name']}-{i}"
            packages.append(
                {
                    "SPDXID": pid,
                    "name": comp["name"],
                    "versionInfo": comp["version"],
                    "primaryPackagePurpose": "LIBRARY",
                    "downloadLocation": "NOASSERTION",
                    "checksums": [{"algorithm": "SHA256", "checksumValue": comp["hashes"][0]["content"]}],
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": comp["purl"],
                        }
                    ],
                    "licenseConcluded": "NOASSERTION",
                    "licenseDeclared": declared,
                }
            )
            rels.append(
                {
                    "spdxElementId": packages[0]["SPDXID"],
                    "relationshipType": "CONTAINS",
                    "relatedSpdxElement": pid,
                }
            )
        doc = {
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": image["name"],
            "documentNamespace": "https://anchore.com/syft/image/ghcr.io/acme/shop-5b1c",
            "creationInfo": {
                "created": cdx["metadata"]["timestamp"],
                "creators": ["Organization: Anchore, Inc", "Tool: syft-1.18.1"],
            },
            "packages": packages,
            "relationships": rels,
        }
        if edit is not None:
            edit(doc)
        (folder / "sbom.spdx.json").write_text(json.dumps(doc, indent=2))

    return change


def _no_name(doc: dict[str, Any]) -> None:
    del doc["packages"][3]["name"]


def _slash_id(doc: dict[str, Any]) -> None:
    doc["packages"][3]["SPDXID"] = "SPDXRef-Package/pypi/fastapi"


TRIVY_LICENSE = "aquasecurity/trivy integration/testdata/license-cyclonedx.json.golden: Results[].Licenses[] (Name, PkgName)"


def _trivy_licence(name: str) -> Change:
    """Add a licence result (``trivy image --scanners vuln,license``) to the demo's Trivy report."""

    def edit(doc: dict[str, Any]) -> None:
        doc["Results"].append(
            {
                "Target": "OS Packages",
                "Class": "license",
                "Licenses": [
                    {
                        "Severity": "CRITICAL",
                        "Category": "forbidden",
                        "PkgName": "ghostscript",
                        "FilePath": "",
                        "Name": name,
                        "Text": "",
                        "Confidence": 1,
                        "Link": "",
                    }
                ],
            }
        )

    return edit_json("trivy-image.json", edit)


SCENARIOS: list[Scenario] = [
    # -- forbidden, in every spelling ----------------------------------------------------------
    _fail("agpl-only-id", _add(lid("AGPL-3.0-only")), "the plain case", CDX),
    _fail(
        "agpl-plus-expression", _add(expr("AGPL-3.0+")), "'+' is or-later: AGPL-3.0-or-later", SPDX_DEPRECATED
    ),
    _fail(
        "agpl-deprecated-id", _add(lid("AGPL-3.0")), "deprecated AGPL-3.0 is AGPL-3.0-only", SPDX_DEPRECATED
    ),
    _fail("agpl-or-later-expression", _add(expr("AGPL-3.0-or-later")), "an expression of one id"),
    _fail("agpl-lower-case-id", _add(lid("agpl-3.0-only")), "SPDX ids match case-insensitively", SPDX_EXPR),
    _fail("sspl-id", _add(lid("SSPL-1.0")), "MongoDB's SSPL is forbidden", CDX),
    _fail("busl-id", _add(lid("BUSL-1.1")), "Business Source licence is not open source", CDX),
    _fail("cc-by-nc-id", _add(lid("CC-BY-NC-4.0")), "non-commercial licence", CDX),
    _fail("and-with-forbidden", _add(expr("MIT AND AGPL-3.0-only")), "AND: both apply"),
    _fail("or-of-two-forbidden", _add(expr("(AGPL-3.0-only OR SSPL-1.0)")), "every choice is forbidden"),
    _fail(
        "nested-every-choice-forbidden",
        _add(expr("(MIT AND AGPL-3.0-only) OR (SSPL-1.0 AND Apache-2.0)")),
        "each alternative carries a forbidden licence",
    ),
    _fail(
        "and-of-choices-one-forced",
        _add(expr("(MIT OR Apache-2.0) AND AGPL-3.0-or-later")),
        "whatever is chosen, AGPL also applies",
    ),
    _fail(
        "two-entries-one-forbidden",
        _add(lid("MIT"), lid("AGPL-3.0-only")),
        "every licence entry of a component is in force (syft lists each declared licence)",
        CDX,
    ),
    _fail(
        "license-and-expression-in-one-entry",
        _add({"license": {"id": "MIT"}, "expression": "AGPL-3.0-only"}),
        "an entry holding both (invalid) keeps both; the AGPL must not be dropped",
        CDX_16,
    ),
    _fail(
        "license-and-expression-name-first",
        _add({"expression": "MIT", "license": {"id": "SSPL-1.0"}}),
        "either key order: neither half is dropped",
        CDX_16,
    ),
    _fail(
        "relicensed-dependency",
        _relicense("fastapi", [expr("AGPL-3.0-only")]),
        "an existing component relicensed upstream",
    ),
    _fail(
        "with-exception-keeps-the-licence",
        _add(expr("AGPL-3.0-only WITH Classpath-exception-2.0")),
        "an exception does not change the licence it qualifies",
    ),
    _fail(
        "deprecated-id-in-rule-data",
        _add(lid("GPL-3.0-only")),
        "an organisation forbidding 'GPL-3.0' (deprecated) forbids GPL-3.0-only",
        SPDX_DEPRECATED,
        params={"defaults": {"supply_chain": {"forbidden_licenses": ["GPL-3.0"]}}},
    ),
    _fail(
        "deprecated-id-both-sides",
        _add(lid("GPL-3.0")),
        "deprecated in the SBOM and in rule data",
        SPDX_DEPRECATED,
        params={"defaults": {"supply_chain": {"forbidden_licenses": ["GPL-3.0"]}}},
    ),
    _fail(
        "plus-in-rule-data",
        _add(expr("LGPL-2.1+")),
        "'LGPL-2.1+' in rule data forbids LGPL-2.1-or-later",
        SPDX_DEPRECATED,
        params={"defaults": {"supply_chain": {"forbidden_licenses": ["LGPL-2.1+"]}}},
    ),
    _fail(
        "retired-with-exception-id",
        _add(lid("GPL-2.0-with-classpath-exception")),
        "a retired '-with-...-exception' id is GPL-2.0-only with the exception",
        SPDX_DEPRECATED,
        params={"defaults": {"supply_chain": {"forbidden_licenses": ["GPL-2.0-only"]}}},
    ),
    # -- names and unknown ids: unknown is never pass --------------------------------------------
    _unknown(
        "agpl-by-name",
        _add(lname("GNU Affero General Public License v3")),
        "a name instead of an id: what it is cannot be judged",
    ),
    _unknown("sspl-by-name", _add(lname("Server Side Public License")), "same, SSPL"),
    _unknown("name-looking-like-id", _add(lname("AGPLv3")), "not an SPDX id"),
    _unknown(
        "unknown-id-in-expression",
        _add(expr("MIT OR Acme-Proprietary-1.0")),
        "an expression naming an unknown id is not an SPDX expression; debatable (MIT could be chosen) but "
        "the unknown id may be a typo of a forbidden one",
        SPDX_EXPR,
    ),
    _unknown("name-in-expression-field", _add(expr("GNU GPL v3 or later")), "free text is no expression"),
    _unknown(
        "name-warn-is-not-honoured-in-prod",
        _add(lname("Proprietary")),
        "rule data asking for warn on names is read as insufficient in prod",
        params={"defaults": {"supply_chain": {"unidentified_licenses": "warn"}}},
    ),
    Scenario(
        "name-fail-when-rule-data-says",
        AREA,
        RULE,
        _add(lname("Proprietary")),
        "fail",
        CDX,
        "an organisation may fail on names outright",
        params={"defaults": {"supply_chain": {"unidentified_licenses": "fail"}}},
    ),
    # -- allowed: no false NO-GO -----------------------------------------------------------------
    _pass("or-choice-mit-agpl", _add(expr("(MIT OR AGPL-3.0-only)")), "MIT may be chosen"),
    _pass("or-choice-apache-agpl-plus", _add(expr("Apache-2.0 OR AGPL-3.0+")), "Apache-2.0 may be chosen"),
    _pass("or-choice-mit-gpl", _add(expr("(MIT OR GPL-3.0-only)")), "the issue's own example"),
    _pass(
        "and-of-choices-each-allowed",
        _add(expr("(MIT OR AGPL-3.0-only) AND (Apache-2.0 OR SSPL-1.0)")),
        "MIT AND Apache-2.0 is a choice",
    ),
    _pass("lgpl-or-later", _add(lid("LGPL-2.1-or-later")), "not forbidden", CDX),
    _pass(
        "gpl-with-classpath",
        _add(expr("GPL-2.0-only WITH Classpath-exception-2.0")),
        "GPL is not forbidden by default",
    ),
    _pass("licenseref", _add(expr("LicenseRef-Acme-Internal")), "a LicenseRef is identified (SPDX 2.3 10.1)"),
    _pass("lower-case-mit", _add(lid("mit")), "case-insensitive ids", CDX),
    _pass("deprecated-gpl", _add(lid("GPL-2.0")), "deprecated but allowed", SPDX_DEPRECATED),
    _pass("mit-and-apache", _add(expr("MIT AND Apache-2.0")), "both allowed"),
    _pass("two-allowed-entries", _add(lid("MIT"), lid("Apache-2.0")), "both allowed", CDX),
    _pass(
        "accepted-name",
        _add(lname("BSD License")),
        "legal reviewed the name (supply_chain.accepted_license_names)",
        CDX,
        params={"defaults": {"supply_chain": {"accepted_license_names": ["bsd license"]}}},
    ),
    _pass("no-licence-at-all", _add(), "no licence is sbom_complete's share, not this rule's", CDX),
    _fail(
        "trivy-licence-agpl",
        _trivy_licence("AGPL-3.0"),
        "Trivy's licence scanner found AGPL in the image",
        TRIVY_LICENSE,
    ),
    _pass("trivy-licence-gpl", _trivy_licence("GPL-2.0"), "GPL is not forbidden by default", TRIVY_LICENSE),
    # -- SPDX 2.3 SBOMs: read when valid, refused when the spec's mandatory parts are broken ------
    Scenario(
        "spdx-valid",
        AREA,
        PRESENT,
        _spdx_from_demo(),
        "pass",
        SPDX,
        "the same inventory as SPDX",
        decision="GO",
    ),
    _pass("spdx-valid-licences", _spdx_from_demo(), "the SPDX SBOM's licences are judged alike", SPDX),
    _fail(
        "spdx-agpl-plus", _spdx_from_demo(licence="AGPL-3.0+"), "a deprecated '+' id in licenseDeclared", SPDX
    ),
    _pass(
        "spdx-or-choice",
        _spdx_from_demo(licence="(MIT OR AGPL-3.0-only)"),
        "OR is a choice in SPDX too",
        SPDX,
    ),
    Scenario(
        "spdx-empty-document-id",
        AREA,
        PRESENT,
        _spdx_from_demo(lambda d: d.__setitem__("SPDXID", "")),
        ("insufficient_evidence", "error"),
        SPDX,
        "an empty document SPDXID: refused, so no SBOM is evidence (the run is INCOMPLETE)",
    ),
    Scenario(
        "spdx-package-without-name",
        AREA,
        PRESENT,
        _spdx_from_demo(_no_name),
        ("insufficient_evidence", "error"),
        SPDX,
        "a nameless package: refused",
    ),
    Scenario(
        "spdx-id-with-slash",
        AREA,
        PRESENT,
        _spdx_from_demo(_slash_id),
        ("insufficient_evidence", "error"),
        SPDX,
        "an id with '/' cannot be referenced: refused",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_licence_verdict(tmp_path: Any, scenario: Scenario) -> None:
    """The licence rule says what the world says about the changed release (and no false GO)."""
    check(tmp_path, scenario)
