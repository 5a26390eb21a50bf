# METADATA
# title: Terraform state is stored remotely, encrypted and locked
# description: The Terraform configuration keeps its state in a remote backend that encrypts it at rest and locks it during runs (for s3, encrypt = true and a dynamodb_table or use_lockfile); local state can be lost, leaked or corrupted by concurrent applies.
# custom:
#   id: iac.state_backend_secure
#   severity: medium
#   requires: [terraform-config]
#   controls:
#     soc2: [CC6.1, CC7.1]
#     iso27001-2022: [A.8.9, A.8.24]
#   remediation: Configure a remote backend, e.g. backend "s3" with encrypt = true, a kms_key_id and use_lockfile = true (Terraform >= 1.10) or a dynamodb_table, or a backend listed in iac.secure_backends (gcs, azurerm, Terraform Cloud).
package affidavit.rules.iac.state_backend_secure

import data.affidavit.lib.evidence
import data.affidavit.lib.params

_configs := evidence.records("terraform-config")

_backends := [{"record": r, "type": lower(b.type), "config": _config(b)} |
	some r in _configs
	b := evidence.data_of(r).backend
	is_object(b)
	is_string(b.type)
]

_config(b) := b.config if is_object(b.config)

else := {}

missing contains m if some m in params.problems("iac", {"secure_backends": "array"})

missing contains v if {
	count(_configs) == 0
	v := {
		"msg": "no Terraform configuration was supplied: pass the root module's .tf files (the directory) to the gate so its backend can be checked",
		"evidence_ids": [],
	}
}

deny contains v if {
	count(_configs) > 0
	count(_backends) == 0
	v := {
		"msg": sprintf("no backend is configured in %s: Terraform keeps state in a local file, unencrypted and unlocked", [concat(", ", sort([evidence.label(r) | some r in _configs]))]),
		"evidence_ids": evidence.ids(_configs),
	}
}

_secure_types := {lower(t) | some t in params.list("iac", "secure_backends"); is_string(t)}

deny contains v if {
	some b in _backends
	b.type != "s3"
	not b.type in _secure_types
	v := {
		"msg": sprintf("%s uses backend %q, which is not known to encrypt and lock state (iac.secure_backends lists: %s)", [evidence.label(b.record), b.type, concat(", ", sort(_secure_types))]),
		"evidence_ids": evidence.id_list(b.record),
	}
}

# s3: a value is true as a boolean or the string "true"; "${...}" is decided at init time.
_true(v) if v == true

_true(v) if v == "true"

_deferred(v) if {
	is_string(v)
	contains(v, "${")
}

_s3 := [b | some b in _backends; b.type == "s3"; count(b.config) > 0]

missing contains v if {
	some b in _backends
	b.type == "s3"
	count(b.config) == 0
	v := {
		"msg": sprintf("%s declares an empty s3 backend (partial configuration supplied at init), so encryption and locking cannot be checked; pass the -backend-config file too or set encrypt and use_lockfile in the block", [evidence.label(b.record)]),
		"evidence_ids": evidence.id_list(b.record),
	}
}

missing contains v if {
	some b in _s3
	some key in ["encrypt", "dynamodb_table", "use_lockfile"]
	_deferred(object.get(b.config, key, null))
	v := {
		"msg": sprintf("%s: s3 backend setting %s = %v is only resolved at init, so it cannot be checked", [evidence.label(b.record), key, b.config[key]]),
		"evidence_ids": evidence.id_list(b.record),
	}
}

deny contains v if {
	some b in _s3
	value := object.get(b.config, "encrypt", null)
	not _true(value)
	not _deferred(value)
	v := {
		"msg": sprintf("%s: the s3 backend does not encrypt state (encrypt = %v); set encrypt = true", [evidence.label(b.record), value]),
		"evidence_ids": evidence.id_list(b.record),
	}
}

_locks(b) if evidence.text(object.get(b.config, "dynamodb_table", null))

_locks(b) if _true(object.get(b.config, "use_lockfile", null))

deny contains v if {
	some b in _s3
	not _locks(b)
	not _deferred(object.get(b.config, "dynamodb_table", null))
	not _deferred(object.get(b.config, "use_lockfile", null))
	v := {
		"msg": sprintf("%s: the s3 backend does not lock state (no dynamodb_table and use_lockfile is not true); concurrent applies can corrupt it", [evidence.label(b.record)]),
		"evidence_ids": evidence.id_list(b.record),
	}
}
