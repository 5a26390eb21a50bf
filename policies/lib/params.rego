# Helpers for rule data: input.context.params, merged by the engine from policies/params.yaml
# (defaults <- environment block <- user overrides). Rules never hard-code thresholds.
package affidavit.lib.params

_all := p if {
	p := input.context.params
	is_object(p)
} else := {}

_environment := e if {
	e := input.context.environment
	is_string(e)
} else := "(unknown)"

_area(area) := a if {
	a := _all[area]
	is_object(a)
} else := {}

# value(area, key) is params[area][key] when set and not null.
value(area, key) := v if {
	v := _area(area)[key]
	v != null
}

# typed(area, key, t) is the value when its type_name is t (number, string, boolean, array, object).
typed(area, key, t) := v if {
	v := value(area, key)
	type_name(v) == t
}

# has(area, key, t) is true when area.key is set with type t (even when its value is false).
has(area, key, t) if type_name(value(area, key)) == t

number(area, key) := typed(area, key, "number")

boolean(area, key) := typed(area, key, "boolean")

list(area, key) := typed(area, key, "array")

mapping(area, key) := typed(area, key, "object")

# optional_list(area, key) is the list area.key, or [] when it is unset (for optional lists
# that only widen what a rule accepts, such as extra identity patterns).
optional_list(area, key) := v if {
	v := list(area, key)
} else := []

# enabled(area, key) is true when the boolean rule data area.key is true.
enabled(area, key) if boolean(area, key) == true

# lower_set(area, key) is the set of lower-cased strings of the list area.key.
lower_set(area, key) := {lower(s) | some s in list(area, key); is_string(s)}

# empty(area, key) is true when area.key is a list with no entry: rule data that an organisation
# must fill in (trusted signers, builders, repositories, required checks) and has not.
empty(area, key) if count(list(area, key)) == 0

# unconfigured(what, how) is the `missing` entry of a rule whose organisation-specific rule data is
# empty: the built-in rule data trusts no one and names nothing of an organisation's own, so the
# rule cannot pass until `how` (the keys to set) is filled in. It is never a pass and never a
# failure of the evidence.
unconfigured(what, how) := {
	"msg": sprintf("no %s are configured for %s: set %s in a rule data file given with --params (see docs/params.md)", [what, _environment, how]),
	"evidence_ids": [],
}

# problems(area, spec) is one `missing` entry per key of spec ({key: type}) that is unset or of
# the wrong type: a rule cannot judge without its rule data, so it never passes without it.
problems(area, spec) := {m |
	some key, t in spec
	not has(area, key, t)
	m := {
		"msg": sprintf("rule data %s.%s is not set for environment %s or is not a %s; set it in policies/params.yaml or an override file", [area, key, _environment, t]),
		"evidence_ids": [],
		"details": {"param": sprintf("%s.%s", [area, key]), "expected_type": t, "got": type_name(object.get(_area(area), key, null))},
	}
}
