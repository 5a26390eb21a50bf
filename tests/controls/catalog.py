"""The rule catalog agreed between the rules author and the control-matrix author.

Rule id -> controls per framework and the evidence kinds the rule requires. The matrices must
list exactly these links (``test_matrices.py``); once the policies' METADATA carries them, the
gate's ``check_rules`` enforces the same agreement against the real rules.
"""

from __future__ import annotations

CATALOG: dict[str, dict[str, tuple[str, ...]]] = {
    "supply_chain.sbom_present": {
        "soc2": ("CC7.1", "CC8.1"),
        "iso27001-2022": ("A.8.8", "A.5.21"),
        "requires": ("sbom",),
    },
    "supply_chain.sbom_complete": {
        "soc2": ("CC7.1",),
        "iso27001-2022": ("A.8.8", "A.5.9"),
        "requires": ("sbom",),
    },
    "supply_chain.sbom_fresh": {"soc2": ("CC8.1",), "iso27001-2022": ("A.8.32",), "requires": ("sbom",)},
    # Licence terms are intellectual property (A.5.32), not supplier risk: the reference's evidence
    # map says not to force a SOC 2 criterion onto a licence check, so the rule names none.
    "supply_chain.forbidden_licenses": {
        "soc2": (),
        "iso27001-2022": ("A.5.32",),
        "requires": ("sbom",),
    },
    "supply_chain.signature_verified": {
        "soc2": ("CC6.8", "CC8.1"),
        "iso27001-2022": ("A.8.19", "A.8.32"),
        # a signature record or a verified signed attestation will do: the rule reports missing itself
        "requires": (),
        "reads": ("signature", "provenance"),
    },
    "supply_chain.provenance_trusted": {
        "soc2": ("CC8.1", "CC6.8"),
        "iso27001-2022": ("A.8.25", "A.8.32", "A.5.21"),
        "requires": ("provenance",),
    },
    "supply_chain.slsa_level": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.5.21", "A.8.25"),
        "requires": ("provenance",),
    },
    "supply_chain.same_subject": {"soc2": ("CC8.1",), "iso27001-2022": ("A.8.32",), "requires": ()},
    "vulnerabilities.fixable_within_window": {
        "soc2": ("CC7.1",),
        "iso27001-2022": ("A.8.8",),
        "requires": ("vulnerability-scan",),
    },
    "vulnerabilities.database_fresh": {
        "soc2": ("CC7.1",),
        "iso27001-2022": ("A.8.8",),
        "requires": ("vulnerability-scan",),
    },
    "vulnerabilities.scan_covers_subject": {
        "soc2": ("CC7.1",),
        "iso27001-2022": ("A.8.8",),
        "requires": ("vulnerability-scan",),
    },
    "secrets.no_secrets": {
        "soc2": ("CC6.1",),
        "iso27001-2022": ("A.5.17", "A.8.12", "A.8.28"),
        # a secret scanner's SARIF (a sast record) will do as well: the rule reports missing itself
        "requires": (),
        "reads": ("secret-scan",),
    },
    "secrets.scan_covers_commit": {
        "soc2": ("CC6.1",),
        "iso27001-2022": ("A.8.12", "A.8.28"),
        "requires": (),
        "reads": ("secret-scan",),
    },
    "code_analysis.no_blocking_findings": {
        "soc2": ("CC8.1", "CC7.1"),
        "iso27001-2022": ("A.8.28", "A.8.29"),
        "requires": ("sast",),
    },
    "code_analysis.required_tools_ran": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.29",),
        "requires": ("sast",),
    },
    "iac.protected_resource_changes": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32",),
        "requires": ("terraform-plan",),
    },
    "iac.encryption_at_rest": {
        "soc2": ("CC6.1", "CC7.1"),
        "iso27001-2022": ("A.8.24", "A.8.9"),
        "requires": ("terraform-plan",),
    },
    "iac.no_public_buckets": {
        "soc2": ("CC6.1", "CC7.1"),
        "iso27001-2022": ("A.8.3", "A.8.9", "A.8.12"),
        "requires": ("terraform-plan",),
    },
    "iac.no_open_admin_ports": {
        "soc2": ("CC6.6", "CC7.1"),
        "iso27001-2022": ("A.8.20", "A.8.9"),
        "requires": ("terraform-plan",),
    },
    # Failed checks of Trivy's misconfiguration scanner, read from its vulnerability-scan record.
    "iac.no_failed_misconfigurations": {
        "soc2": ("CC7.1",),
        "iso27001-2022": ("A.8.9",),
        "requires": ("vulnerability-scan",),
    },
    "iac.state_backend_secure": {
        "soc2": ("CC6.1", "CC7.1"),
        "iso27001-2022": ("A.8.9", "A.8.24"),
        "requires": ("terraform-config",),
    },
    "iac.providers_pinned": {
        "soc2": ("CC8.1", "CC7.1"),
        "iso27001-2022": ("A.8.9",),
        "requires": ("terraform-config",),
    },
    "source_control.branch_protected": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.8.4"),
        "requires": ("branch-protection",),
    },
    "source_control.required_reviews": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.5.3"),
        "requires": ("branch-protection",),
    },
    "source_control.code_owner_review": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.5.3"),
        "requires": ("branch-protection",),
    },
    "source_control.dismiss_stale_reviews": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32",),
        "requires": ("branch-protection",),
    },
    "source_control.status_checks": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.8.29"),
        "requires": ("branch-protection",),
    },
    "source_control.admins_enforced": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.8.2"),
        "requires": ("branch-protection",),
    },
    "source_control.no_force_push": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.8.4"),
        "requires": ("branch-protection",),
    },
    "source_control.signed_linear_history": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32",),
        "requires": ("branch-protection",),
    },
    "change_management.approval_recorded": {
        "soc2": ("CC8.1",),
        "iso27001-2022": ("A.8.32", "A.5.3"),
        "requires": ("change-record",),
    },
}


def rule_controls() -> dict[str, dict[str, tuple[str, ...]]]:
    """Rule id -> framework -> control ids (the shape ``check_rules`` takes)."""
    return {rid: {fw: row[fw] for fw in ("soc2", "iso27001-2022")} for rid, row in CATALOG.items()}
