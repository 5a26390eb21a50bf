# METADATA
# title: The required static analysis tools ran
# description: Each static analysis tool that rule data requires has at least one complete analysis run of the release commit in the evidence; a SARIF file with zero runs, results from other tools only, a run that failed or reported errors, or a run of another commit is not a clean scan of the release.
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

# The runs a record describes (SARIF run_info); other formats state none and are judged by
# their tools alone.
_run_info := [{"record": r, "run": i} |
	some r in sast.records
	some i in evidence.array_at(evidence.data_of(r), "run_info")
	is_object(i)
	is_string(i.tool)
]

_required := params.lower_set("code_analysis", "required_tools")

# A run is judged when its tool is required, or when no tool is (every tool then counts).
_judged(tool) if count(_required) == 0

_judged(tool) if lower(tool) in _required

# A run that failed or reported errors (Semgrep's parse errors, CodeQL's extraction errors) is a
# partial analysis: its missing results are unknown, never clean.
missing contains v if {
	some e in _run_info
	_judged(e.run.tool)
	not e.run.complete == true
	v := {
		"msg": sprintf("the %s run in %s did not complete (%v), so its results are partial: fix the error the tool reports and re-run it on the release commit", [e.run.tool, evidence.label(e.record), object.get(e.run, "reason", "no reason stated")]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

_commit := lower(trim_space(c)) if {
	c := input.context.commit
	is_string(c)
	trim_space(c) != ""
}

# Two commit ids name the same commit when equal or when one (7+ hex digits) abbreviates the other.
_same(a, b) if a == b

_same(a, b) if {
	count(a) >= 7
	startswith(b, a)
}

_same(a, b) if {
	count(b) >= 7
	startswith(a, b)
}

# _is_commit(revision) is true when revision names the promoted commit (undefined, never an
# error, when no commit is promoted: `not _same(..., _commit)` would be undefined on OPA then).
_is_commit(revision) if _same(lower(revision), _commit)

# A run that states the commit it analysed (versionControlProvenance) must have analysed the
# release commit: results of another commit say nothing of the code being released.
missing contains v if {
	some e in _run_info
	_judged(e.run.tool)
	is_string(e.run.revision)
	not _is_commit(e.run.revision)
	v := {
		"msg": sprintf("the %s run in %s analysed %s, not the promoted commit %v: run the analysis on the release commit and pass its SARIF", [e.run.tool, evidence.label(e.record), _revision_shown(e.run.revision), object.get(input.context, "commit", "(none given)")]),
		"evidence_ids": evidence.id_list(e.record),
	}
}

# A revision is shown only when it is a commit id (the text is the artefact's).
_revision_shown(rev) := sprintf("commit %s", [rev]) if regex.match(`^[0-9a-fA-F]{7,64}$`, rev)
else := "a revision that is no commit id"
