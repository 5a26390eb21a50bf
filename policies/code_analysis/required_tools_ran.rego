# METADATA
# title: The required static analysis tools ran
# description: Each static analysis tool that rule data requires has at least one analysis run in the evidence; a SARIF file with zero runs, or results from other tools only, is not a clean scan.
# custom:
#   id: code_analysis.required_tools_ran
#   severity: high
#   requires: [sast]
#   controls:
#     soc2: [CC8.1]
#     iso27001-2022: [A.8.29]
#   remediation: Run every tool in code_analysis.required_tools on the release commit with SARIF output (e.g. github/codeql-action with an upload of the .sarif) and pass its SARIF files to the gate.
package affidavit.rules.code_analysis.required_tools_ran

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.sast

missing contains sast.no_evidence if count(sast.records) == 0

missing contains m if some m in params.problems("code_analysis", {"required_tools": "array"})

_empty := [r | some r in sast.records; sast.runs(r) == 0]

_ran_tools := {t | some r in sast.records; sast.runs(r) > 0; some t in sast.tools(r)}

_empty_note := sprintf("; %s contain(s) no runs", [concat(", ", sort([evidence.label(r) | some r in _empty]))]) if count(_empty) > 0

else := ""

deny contains v if {
	count(sast.records) > 0
	some tool in params.list("code_analysis", "required_tools")
	is_string(tool)
	not sast.ran(lower(tool))
	v := {
		"msg": sprintf("%s did not run: no analysis run of it is in the evidence (runs found: %s)%s (code_analysis.required_tools)", [tool, _names(_ran_tools), _empty_note]),
		"evidence_ids": evidence.ids(sast.records),
	}
}

deny contains v if {
	count(sast.records) > 0
	count(params.list("code_analysis", "required_tools")) == 0
	count(_ran_tools) == 0
	v := {
		"msg": sprintf("none of the static analysis files contains an analysis run%s: a SARIF file with zero runs is not a clean scan", [_empty_note]),
		"evidence_ids": evidence.ids(sast.records),
	}
}

warn contains v if {
	some r in _empty
	v := {
		"msg": sprintf("%s contains no analysis runs: a SARIF file with zero runs is not a clean scan", [evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
	}
}

_names(s) := concat(", ", sort(s)) if count(s) > 0

else := "none"
