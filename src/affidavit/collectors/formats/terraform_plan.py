"""Terraform and OpenTofu plans, as ``terraform show -json tf.plan`` / ``tofu show -json`` write them.

One format, ``terraform-plan-json``, covers plan JSON ``format_version`` 0.1 to 1.2 (Terraform 0.12
to 1.14 and OpenTofu). The record keeps what a change-management policy needs and drops the rest
(``planned_values``, ``prior_state``, ``configuration``, ``variables``): per resource change its
address, previous address (moved blocks), type, name, index, module, provider, mode, the
``actions`` exactly as the plan lists them (a replacement is ``["delete", "create"]`` or, with
``create_before_destroy``, ``["create", "delete"]``), the reason, ``after`` and
``after_unknown``; a summary that counts a replacement once, as ``replace``; the drift Terraform
detected; whether the plan errored; the changes Terraform deferred to a later plan
(``deferred_changes``, Terraform 1.8+: address, type, actions and reason of each; their values are
not kept); and the names (only) of the changed outputs. A change's earlier values (``before``)
are left out: no rule reads them, they are a third of a large plan's record and of the engine's
input, and the bundle's redacted copy of the plan keeps them.

Sensitive values. Every value the plan marks in ``before_sensitive`` / ``after_sensitive`` is
replaced by the string ``"(sensitive)"`` in ``after`` (the marks mirror the value's structure;
``true`` on an object or list masks it whole), and the masked places are listed in
``sensitive_paths`` (each ``"after"`` then keys and indexes, as Terraform's ``replace_paths``). A
string of a value masked on either side that stands unmarked elsewhere in ``after`` is masked
there too, and listed: Terraform marks only the paths the configuration's sensitive values reach,
so an attribute the provider computes from them (``tags_all``, the tags merged with
``default_tags``) echoes the plaintext unmarked. The plaintext never reaches the record, and the
policies treat every listed place as a value they cannot see (``terraform.masked``), never as the
text ``"(sensitive)"``.

Values that only *look* like secrets are masked the same way, in every resource change, after
the marks (``kinds.terraform.scrub_secrets``: a string holding a well-known credential format, such
as an AWS access key id, a private key, a GitHub or Slack token or ``SECRET=...`` in a script, or a
literal under a name that says secret, such as ``password``, ``AWS_SECRET_ACCESS_KEY`` or
``api_key``): in plans from before Terraform 0.15, without marks, this is the only protection, and
a provider marks only the attributes its schema declares sensitive (a Lambda's environment
variables are not). Each string is judged once per plan. The record's ``problems`` say where a
value was masked on a guess; mark it sensitive in the configuration so that Terraform hides it
too.

Unknown values. ``after`` is kept exactly as Terraform wrote it: a value that is only known after
apply is simply *absent* from ``after`` (or ``null`` inside a list), and ``after_unknown`` (kept
unchanged) says which. Policies must consult ``after_unknown`` before concluding anything from a
missing or null ``after`` value; nothing here guesses.

Rejected with a message that says what to do instead: a Terraform *state* (``terraform show -json``
without a plan file, or a raw ``terraform.tfstate``) and the streamed UI log of
``terraform plan -json``. Accepted with a ``problems`` entry: the output of the
``hashicorp/setup-terraform`` wrapper (a ``[command]...terraform-bin show -json`` line before the
JSON and ``::debug::`` lines after it), errored plans, plans that look partial (``-target``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from affidavit.artefact import Artefact, gc_paused
from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    opt_str,
    require_list,
    require_mapping,
    shape_of,
)
from affidavit.collectors.kinds.terraform import (
    SecretLooks,
    mask_equal,
    mask_marked,
    redact_plan_copy,
    redact_plan_value,
    scrub_secrets,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject, Tool
from affidavit.model.time import format_utc, parse_timestamp

_KNOWN_FORMAT_MAJOR = 1
_ACTIONS = frozenset({"no-op", "create", "read", "update", "delete", "forget"})
_SINGLE = {
    "create": "create",
    "update": "update",
    "delete": "delete",
    "no-op": "no_op",
    "read": "read",
    "forget": "forget",
}
_PLAN_KEYS = ("resource_changes", "planned_values", "resource_drift", "output_changes")
_MAKE_PLAN = (
    "make a plan JSON with: terraform plan -out tf.plan && terraform show -json tf.plan > tfplan.json"
)
_WRAPPER_FIX = (
    "set `terraform_wrapper: false` on the hashicorp/setup-terraform step (or call the real binary) "
    "so that `terraform show -json` writes plain JSON"
)
_UI_LOG = re.compile(r'"@module"\s*:\s*"(terraform|tofu)\.ui"')


# ---------------------------------------------------------------------------------------------
# Detection


def _detect(doc: Artefact) -> int:
    """Score ``doc`` as a plan (or as one of the things people pass instead of a plan)."""
    head = doc.head
    if head.startswith("[command]"):
        first = head.split("\n", 1)[0]
        if ("terraform" in first or "tofu" in first) and '"format_version"' in head:
            return DEFINITE
        return NO
    if head.startswith('{"@level"') and _UI_LOG.search(head[:1024]):
        return DEFINITE
    value = doc.try_json()
    if not isinstance(value, dict):
        return NO
    if "format_version" in value:
        if any(k in value for k in _PLAN_KEYS):
            return DEFINITE
        if "values" in value and "terraform_version" in value:
            return DEFINITE  # `terraform show -json` of a state: ours to reject clearly
        if "errored" in value:
            return LIKELY
    if "lineage" in value and "serial" in value and ("resources" in value or "modules" in value):
        return DEFINITE  # a raw terraform.tfstate
    return NO


# ---------------------------------------------------------------------------------------------
# Reading the document (plain JSON, or JSON inside the setup-terraform wrapper's output)


def _load(doc: Artefact, problems: Problems) -> Any:
    """The plan object, unwrapped from the setup-terraform wrapper's output when needed."""
    if doc.head.startswith("[command]"):
        return _unwrap(doc, problems)
    if doc.head.startswith('{"@level"'):
        raise InputError(
            doc.source,
            "is the streamed log of `terraform plan -json` (one UI message per line), not a plan",
            hint=_MAKE_PLAN,
        )
    return doc.json()


def _unwrap(doc: Artefact, problems: Problems) -> Any:
    """Find and parse the plan JSON between the wrapper's ``[command]`` and ``::`` lines."""
    text = doc.text
    offset = 0
    line_no = 1
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("{"):
            break
        offset += len(line)
        line_no += 1
    else:
        raise InputError(
            doc.source,
            "holds the hashicorp/setup-terraform wrapper's '[command]' line but no plan JSON after it",
            hint=_WRAPPER_FIX,
        )
    try:
        with gc_paused():
            value, end = json.JSONDecoder().raw_decode(text, text.index("{", offset))
    except json.JSONDecodeError as exc:
        raise InputError(
            doc.source,
            f"the plan JSON after the setup-terraform wrapper's '[command]' line is broken: "
            f"{exc.msg} at line {exc.lineno} column {exc.colno}",
            hint=_WRAPPER_FIX,
        ) from None
    rest = [ln for ln in text[end:].splitlines() if ln.strip() and ln.strip() != "%0A"]
    stray = [ln for ln in rest if not ln.startswith("::")]
    problems.add(
        "$",
        f"is the output of the hashicorp/setup-terraform wrapper (a '[command]' line before the JSON"
        f"{' and ' + str(len(rest)) + ' workflow-command lines after it' if rest else ''}); "
        f"the plan JSON was read from line {line_no}. To record plain JSON, {_WRAPPER_FIX}",
    )
    if stray:
        problems.add(
            "$", f"{len(stray)} line(s) after the plan JSON are neither JSON nor '::' workflow commands"
        )
    return value


def _reject_state(doc: Artefact, plan: dict[str, Any]) -> None:
    """Raise when ``plan`` is a Terraform state rather than a plan."""
    if "lineage" in plan and "serial" in plan:
        raise InputError(
            doc.source,
            "is a raw Terraform state file (terraform.tfstate: version, serial, lineage, resources), "
            "not a plan: a state says what exists, not what a change will do",
            hint=_MAKE_PLAN,
        )
    if "values" in plan and not any(k in plan for k in _PLAN_KEYS):
        raise InputError(
            doc.source,
            "is Terraform state as `terraform show -json` prints it without a plan file "
            "('values' but no 'resource_changes' or 'planned_values'), not a plan",
            hint=_MAKE_PLAN,
        )


# ---------------------------------------------------------------------------------------------
# Parsing


def _address(rc: dict[str, Any]) -> str | None:
    """The address a resource change should have had, from its parts (some tools drop it)."""
    rtype, name = opt_str(rc.get("type")), opt_str(rc.get("name"))
    if rtype is None or name is None:
        return None
    base = f"data.{rtype}.{name}" if rc.get("mode") == "data" else f"{rtype}.{name}"
    index = rc.get("index")
    if isinstance(index, bool) or index is None:
        pass
    elif isinstance(index, int):
        base += f"[{index}]"
    elif isinstance(index, str):
        base += f"[{json.dumps(index)}]"
    module = opt_str(rc.get("module_address"))
    return f"{module}.{base}" if module else base


def _classify(actions: list[str]) -> str | None:
    """The summary bucket of one action list (a replacement counts once, as ``replace``)."""
    if len(actions) == 2 and set(actions) == {"create", "delete"}:
        return "replace"
    if len(actions) == 1:
        return _SINGLE.get(actions[0])
    return None


def _timestamp(value: Any) -> str | None:
    """The plan's ``timestamp`` (RFC 3339) in the one written form of ``model.time``, else ``None``."""
    moment = parse_timestamp(value, time_required=True)
    return None if moment is None else format_utc(moment)


def _prior_managed(plan: dict[str, Any]) -> set[str]:
    """Addresses of the managed resources in ``prior_state`` (to spot partial plans)."""
    prior = plan.get("prior_state")
    if not isinstance(prior, dict) or not isinstance(prior.get("values"), dict):
        return set()
    out: set[str] = set()
    stack = [prior["values"].get("root_module")]
    while stack:
        module = stack.pop()
        if not isinstance(module, dict):
            continue
        for res in module.get("resources") or ():
            if isinstance(res, dict) and res.get("mode") == "managed" and isinstance(res.get("address"), str):
                out.add(res["address"])
        stack.extend(module.get("child_modules") or ())
    return out


def _parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a plan JSON document into ``terraform-plan`` data.

    The cyclic garbage collector stays paused throughout: the records built here are many small
    containers, and each automatic collection would walk the whole parsed plan (tens of MB) again.
    """
    with gc_paused():
        parsed, plan = _parse_plan(doc)
        if options.stored_copies:
            # The bundle's copy, from this parse (the record is built: only top-level objects of
            # ``plan`` change now, never a value the record holds); what ``redact_plan`` gives.
            floats = doc.json_floats if not doc.head.startswith("[command]") else None
            parsed.stored = redact_plan_copy(plan, floats=floats)
        return parsed


def _parse_plan(doc: Artefact) -> tuple[Parsed, dict[str, Any]]:
    """The body of ``_parse``: the record, and the parsed plan it was read from."""
    problems = Problems(doc.source)
    plan = require_mapping(doc, _load(doc, problems), "$")
    _reject_state(doc, plan)

    format_version = opt_str(plan.get("format_version"))
    if format_version is None:
        raise InputError(doc.source, "has no 'format_version': not `terraform show -json` output", path="$")
    major = format_version.split(".", 1)[0]
    if not major.isdigit():
        problems.add(
            "$.format_version",
            f"the plan format version ({shape_of(format_version)}) is not a version number; read as 1.x",
        )
    elif int(major) > _KNOWN_FORMAT_MAJOR:
        problems.add(
            "$.format_version",
            f"plan format {int(major)}.x is newer than the 1.x formats this reader knows; read as 1.x",
        )
    terraform_version = opt_str(plan.get("terraform_version"))

    changes = _changes(doc, plan, problems)
    summary = _summary(changes, problems)
    drift = _drift(doc, plan, problems)
    deferred = _deferred(doc, plan, problems)

    errored = plan.get("errored") is True
    if errored:
        problems.add(
            "$.errored",
            "Terraform reports that planning failed (errored: true): the plan is incomplete and cannot be applied",
        )
    partial = _looks_partial(plan, changes, problems) or plan.get("complete") is False

    outputs = plan.get("output_changes")
    effective_at = _timestamp(plan.get("timestamp"))
    if "timestamp" in plan and effective_at is None:
        problems.add("$.timestamp", f"{shape_of(plan.get('timestamp'))}, not an RFC 3339 timestamp; ignored")

    data: dict[str, Any] = {
        "terraform_version": terraform_version,
        "format_version": format_version,
        "resource_changes": changes,
        "summary": summary,
        "drift": drift,
        "deferred_changes": deferred,
        "errored": errored,
        "applyable": _opt_bool(plan.get("applyable")),
        "complete": _opt_bool(plan.get("complete")),
        "partial": partial,
        "output_changes": sorted(outputs) if isinstance(outputs, dict) else [],
    }
    tool: Tool | None = None
    if _is_opentofu(plan, changes):
        tool = Tool("opentofu", terraform_version)
    elif terraform_version is not None:
        tool = Tool("terraform", terraform_version)
    parsed = Parsed(
        data=data,
        format_version=format_version,
        tool=tool,
        subject=Subject(),
        effective_at=effective_at,
        problems=problems.items,
    )
    return parsed, plan


def _changes(doc: Artefact, plan: dict[str, Any], problems: Problems) -> list[dict[str, Any]]:
    """Every resource change, with its sensitive values masked."""
    raw_changes = require_list(doc, plan.get("resource_changes") or [], "$.resource_changes")
    changes: list[dict[str, Any]] = []
    unmarked = 0
    judge = SecretLooks()  # one string's look judged once for the whole plan
    guessed: list[str] = []
    echoed: list[str] = []
    for i, raw in enumerate(raw_changes):
        where = f"$.resource_changes[{i}]"
        rc = require_mapping(doc, raw, where)
        change = require_mapping(doc, rc.get("change"), f"{where}.change")
        actions = require_list(doc, change.get("actions"), f"{where}.change.actions")
        if not actions or not all(isinstance(a, str) for a in actions):
            raise InputError(
                doc.source, "expected a non-empty array of action names", path=f"{where}.change.actions"
            )
        address = opt_str(rc.get("address"))
        if address is None:
            address = _address(rc)
            if address is None:
                raise InputError(doc.source, "resource change has no address, type or name", path=where)
            problems.add(where, "has no 'address'; one was built from its module, mode, type, name and index")
        unknown = [a for a in actions if a not in _ACTIONS]
        if unknown:
            raise InputError(
                doc.source,
                f"{len(unknown)} action name(s) this reader does not know: it knows "
                f"{', '.join(sorted(_ACTIONS))} (a plan from a newer Terraform?)",
                path=f"{where}.change.actions",
            )
        rtype, name = opt_str(rc.get("type")), opt_str(rc.get("name"))
        if rtype is None or name is None:
            raise InputError(doc.source, "the resource change has no type or name", path=where)
        mode = opt_str(rc.get("mode"))
        if mode is None:
            mode = "data" if address.startswith("data.") or ".data." in address else "managed"
            problems.add(where, f"has no 'mode'; read as {mode!r} from the address")

        # The record keeps the planned values (``after``), not the earlier ones: no rule reads
        # ``before``, and the bundle's redacted copy of the plan keeps it whole. A value it marks
        # sensitive is still a plaintext to look for in ``after``.
        masked: list[list[Any]] = []
        after = change.get("after")
        marked = "before_sensitive" in change or "after_sensitive" in change
        if marked:
            plaintexts: set[str] = set()
            mask_marked(change.get("before"), change.get("before_sensitive"), [], [], plaintexts)
            after = mask_marked(after, change.get("after_sensitive"), ["after"], masked, plaintexts)
            if plaintexts:  # (only a change with a mark that masked something is walked again)
                marks_masked = len(masked)
                after = mask_equal(after, plaintexts, ["after"], masked)
                if len(masked) > marks_masked:
                    echoed.append(where)
        elif change.get("before") is not None or after is not None:
            unmarked += 1
        # What no mark covers but looks like a secret, in every change: a provider marks only the
        # attributes its schema declares sensitive (a Lambda's environment is not).
        found: list[list[Any]] = []
        after = scrub_secrets(after, ["after"], found, judge)
        if found:
            masked.extend(found)
            guessed.append(where)
        changes.append(
            {
                "address": address,
                "previous_address": opt_str(rc.get("previous_address")),
                "type": rtype,
                "name": name,
                "index": rc.get("index"),
                "module": opt_str(rc.get("module_address")),
                "provider": opt_str(rc.get("provider_name")),
                "mode": mode,
                "actions": list(actions),
                "action_reason": opt_str(rc.get("action_reason")),
                "replace_paths": change.get("replace_paths") or [],
                "after": after,
                "after_unknown": change.get("after_unknown"),
                "sensitive_paths": masked,
            }
        )
    if echoed:
        problems.add(
            "$.resource_changes",
            f"values equal to ones the plan marks sensitive stand unmarked elsewhere in {len(echoed)} "
            f"resource change(s) ({', '.join(echoed[:3])}{', ...' if len(echoed) > 3 else ''}), as an "
            f"attribute the provider computes from them (tags_all) echoes them: masked there too",
        )
    if unmarked:
        problems.add(
            "$.resource_changes",
            f"{unmarked} resource change(s) carry no before_sensitive/after_sensitive marks (a plan "
            f"from before Terraform 0.15): only values that look like secrets (by their name or "
            f"format) could be masked; other values Terraform treats as sensitive are kept as written",
        )
    if guessed:
        problems.add(
            "$.resource_changes",
            f"values that look like secrets but are not marked sensitive by the plan were masked in "
            f"{len(guessed)} resource change(s) ({', '.join(guessed[:3])}{', ...' if len(guessed) > 3 else ''}); "
            f"mark them sensitive in the configuration so that Terraform hides them too",
        )
    return changes


def _summary(changes: list[dict[str, Any]], problems: Problems) -> dict[str, int]:
    """Counts per kind of change; a replacement counts once, as ``replace``."""
    summary = dict.fromkeys(("create", "update", "delete", "replace", "no_op", "read", "forget"), 0)
    for i, change in enumerate(changes):
        actions = change["actions"]
        bucket = _classify(actions)
        if bucket is not None:
            summary[bucket] += 1
            continue
        for action in actions:
            if action in _SINGLE:
                summary[_SINGLE[action]] += 1
        problems.add(
            f"$.resource_changes[{i}].change.actions",
            f"unusual action list {actions}: each action counted on its own in the summary",
        )
    return summary


def _drift(doc: Artefact, plan: dict[str, Any], problems: Problems) -> list[dict[str, Any]]:
    """The changes Terraform found made outside of it (``resource_drift``), address and actions."""
    raw_drift = plan.get("resource_drift")
    if raw_drift is None:
        return []
    drift: list[dict[str, Any]] = []
    built: list[str] = []
    for i, raw in enumerate(require_list(doc, raw_drift, "$.resource_drift")):
        where = f"$.resource_drift[{i}]"
        entry = require_mapping(doc, raw, where)
        change = entry.get("change")
        actions = change.get("actions") if isinstance(change, dict) else None
        address = opt_str(entry.get("address"))
        if address is None:
            address = _address(entry)
            built.append(where)
        drift.append({"address": address, "actions": list(actions) if isinstance(actions, list) else []})
    if built:
        problems.add(
            "$.resource_drift",
            f"{len(built)} drift entr{'y has' if len(built) == 1 else 'ies have'} no 'address' "
            f"(first: {built[0]}); addresses were built from module, mode, type, name and index",
        )
    return drift


def _deferred(doc: Artefact, plan: dict[str, Any], problems: Problems) -> list[dict[str, Any]]:
    """The resource changes Terraform deferred (``deferred_changes``): address, type, actions, reason.

    Each entry is ``{reason, resource_change}`` (Terraform's ``jsonplan.DeferredResourceChange``);
    a deferred change is one the apply will not make, so the plan is incomplete (Terraform also
    sets ``complete: false``). Only what names the change is kept, never its values.
    """
    raw = plan.get("deferred_changes")
    if raw is None:
        return []
    out: list[dict[str, Any]] = []
    for i, item in enumerate(require_list(doc, raw, "$.deferred_changes")):
        where = f"$.deferred_changes[{i}]"
        entry = require_mapping(doc, item, where)
        rc = entry.get("resource_change")
        rc = rc if isinstance(rc, dict) else {}
        change = rc.get("change")
        actions = change.get("actions") if isinstance(change, dict) else None
        out.append(
            {
                "address": opt_str(rc.get("address")) or _address(rc),
                "type": opt_str(rc.get("type")),
                "actions": [a for a in actions if isinstance(a, str)] if isinstance(actions, list) else [],
                "reason": opt_str(entry.get("reason")),
            }
        )
    if out:
        problems.add(
            "$.deferred_changes",
            f"Terraform deferred {len(out)} resource change(s) to a later plan: this plan does not show "
            "everything the configuration will change",
        )
    return out


def _looks_partial(plan: dict[str, Any], changes: list[dict[str, Any]], problems: Problems) -> bool:
    """True (with a problem) when managed resources of the prior state have no change at all.

    Terraform lists every managed resource of the configuration in ``resource_changes`` (unchanged
    ones as ``no-op``), except in a ``-target`` plan, which lists only the targets.
    """
    prior = _prior_managed(plan)
    if not prior:
        return False
    missing = sorted(prior - {c["address"] for c in changes})
    if not missing:
        return False
    problems.add(
        "$.resource_changes",
        f"{len(missing)} managed resource(s) in prior_state have no resource change: the plan "
        "looks partial, as made with -target, and does not cover the whole configuration",
    )
    return True


def _opt_bool(value: Any) -> bool | None:
    """A boolean the plan may leave out (``None`` then)."""
    return value if isinstance(value, bool) else None


def _is_opentofu(plan: dict[str, Any], changes: list[dict[str, Any]]) -> bool:
    """True when providers come from the OpenTofu registry (both tools write ``terraform_version``)."""
    prefix = "registry.opentofu.org/"
    if any((c["provider"] or "").startswith(prefix) for c in changes):
        return True
    config = plan.get("configuration")
    providers = config.get("provider_config") if isinstance(config, dict) else None
    if not isinstance(providers, dict):
        return False
    return any(
        isinstance(p, dict) and str(p.get("full_name", "")).startswith(prefix) for p in providers.values()
    )


# ---------------------------------------------------------------------------------------------
# Redaction of the raw plan for evidence bundles


def redact_plan(raw: bytes, source: str = "plan") -> bytes:
    """The plan with every sensitive value masked, for an evidence bundle (``redact_plan_value``).

    The setup-terraform wrapper's output is unwrapped first; what is stored is the plan JSON alone.
    A document that is not a plan object is returned as it is (it holds no plan values). A gate
    does not call this: its collector made the same copy from its own parse (``Parsed.stored``).
    """
    plan = _load(Artefact(source, raw), Problems(source))
    if not isinstance(plan, dict):
        return raw
    return redact_plan_value(plan)


FORMATS: tuple[Format, ...] = (
    Format(
        name="terraform-plan-json",
        kind=EvidenceKind.TERRAFORM_PLAN,
        detect=_detect,
        parse=_parse,
        description="Terraform/OpenTofu plan JSON (terraform show -json tf.plan), format 0.1-1.2",
        redact=redact_plan,
    ),
)
