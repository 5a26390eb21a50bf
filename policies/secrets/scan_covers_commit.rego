# METADATA
# title: The secret scan covers the commit being promoted
# description: When the promotion names its source commit, a secret scan shows it scanned that commit, so a clean result is about the code being released and not an older revision.
# custom:
#   id: secrets.scan_covers_commit
#   severity: medium
#   requires: []
#   cites: [sast, secret-scan]  # what a pass stands on: these records, not every file
#   controls:
#     soc2: [CC6.1]
#     iso27001-2022: [A.8.12, A.8.28]
#   remediation: Run the secret scan in the release pipeline on the commit being promoted (e.g. gitleaks git --log-opts="-1 <sha>", or a scanner that records the scanned revision), pass --commit <sha> to the gate, and pass the report.
package affidavit.rules.secrets.scan_covers_commit

import data.affidavit.lib.evidence
import data.affidavit.lib.params

# Secret scans: Gitleaks-style reports, and SARIF logs whose runs are a secret scanner's.
_scans := array.concat(evidence.records("secret-scan"), [r |
	some r in evidence.records("sast")
	count(_sarif_secret_runs(r)) > 0
])

_sarif_secret_runs(r) := [i |
	r.kind == "sast"
	some i in evidence.array_at(evidence.data_of(r), "run_info")
	is_object(i)
	i.secret_scanner == true
]

# The revisions a secret scanner's SARIF runs state they scanned (versionControlProvenance);
# a run that did not complete covered nothing for certain.
_sarif_revisions(r) := {lower(i.revision) |
	some i in _sarif_secret_runs(r)
	i.complete == true
	_commit_like(i.revision)
}

_commit := lower(trim_space(c)) if {
	c := input.context.commit
	is_string(c)
	trim_space(c) != ""
}

_commit_like(c) if {
	is_string(c)
	regex.match(`^[0-9a-fA-F]{7,64}$`, c)
}

# The revision a scan says it scanned (its subject version; a secret scanner's SARIF run's
# revision), when it says.
_scanned(r) := lower(v) if {
	r.kind != "sast"
	v := object.get(r, ["subject", "version"], null)
	_commit_like(v)
} else := concat(", ", sort(_sarif_revisions(r))) if count(_sarif_revisions(r)) > 0

# Every commit a scan shows it looked at: the revision it scanned and the commits of its findings.
_seen(r) := {lower(c) |
	r.kind != "sast"
	some c in array.concat(evidence.array_at(evidence.data_of(r), "commits"), [object.get(r, ["subject", "version"], null)])
	_commit_like(c)
} if r.kind != "sast"
else := _sarif_revisions(r)

# Two commit ids name the same commit when equal or when one abbreviates the other.
_same(a, b) if a == b

_same(a, b) if {
	count(a) >= 7
	startswith(b, a)
}

_same(a, b) if {
	count(b) >= 7
	startswith(a, b)
}

_covering := [r |
	some r in _scans
	some c in _seen(r)
	_same(c, _commit)
]

_stating := [r |
	some r in _scans
	_scanned(r)
]

missing contains m if some m in params.problems("secrets", {"require_commit": "boolean", "require_commit_coverage": "boolean"})

missing contains v if {
	count(_scans) == 0
	v := {
		"msg": "no secret scan was supplied, so no commit can be shown to have been scanned",
		"evidence_ids": [],
	}
}

_no_commit_msg := "the promotion names no commit (context.commit), so the secret scan cannot be shown to cover the code being released; pass --commit <sha>"

missing contains v if {
	count(_scans) > 0
	not _commit
	params.enabled("secrets", "require_commit")
	v := {"msg": _no_commit_msg, "evidence_ids": evidence.ids(_scans)}
}

warn contains v if {
	count(_scans) > 0
	not _commit
	params.boolean("secrets", "require_commit") == false
	v := {"msg": _no_commit_msg, "evidence_ids": evidence.ids(_scans)}
}

deny contains v if {
	_commit
	count(_covering) == 0
	count(_stating) > 0
	v := {
		"msg": sprintf("the secret scans were of commit(s) %s, not the promoted commit %s", [concat(", ", sort({_scanned(r) | some r in _stating})), _commit]),
		"evidence_ids": evidence.ids(_stating),
	}
}

_unproven_msg := sprintf("no secret scan states which commit it scanned, so coverage of the promoted commit %v is unproven (a clean gitleaks JSON report, [] or null, names no commit): pass a secret scan that states its revision, e.g. gitleaks --report-format sarif with the run's versionControlProvenance (revisionId) set to the release commit (docs/verdicts/secrets.md)", [_commit])

missing contains v if {
	_commit
	count(_scans) > 0
	count(_covering) == 0
	count(_stating) == 0
	params.enabled("secrets", "require_commit_coverage")
	v := {"msg": _unproven_msg, "evidence_ids": evidence.ids(_scans)}
}

warn contains v if {
	_commit
	count(_scans) > 0
	count(_covering) == 0
	count(_stating) == 0
	params.boolean("secrets", "require_commit_coverage") == false
	v := {"msg": _unproven_msg, "evidence_ids": evidence.ids(_scans)}
}
