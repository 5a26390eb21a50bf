"""The shared vocabulary of Terraform evidence: what is sensitive, and how it is masked.

The plan collector (``terraform-plan-json``), the configuration collector (``terraform-hcl``) and
the bundle's redaction of a raw plan all mask secrets the same way, with the same marker,
``"(sensitive)"`` (``SENSITIVE``):

* by Terraform's own marks: ``mask_marked`` replaces every place a ``*_sensitive`` mirror marks
  (the marks mirror the value's structure; ``true`` on an object or list masks it whole);
* by the look of a value: ``scrub_secrets`` replaces a string holding a well-known credential
  format or a literal under a name that says secret (``kinds.secrets.looks_secret`` and
  ``secret_setting``: an AWS access key id, a private key, a URL with a password, ``SECRET=...``
  in a script; ``password``, ``AWS_SECRET_ACCESS_KEY``, ``api_key``, but not ``password_length``,
  ``kms_key_id`` or ``http_tokens = "required"``);
* for a raw plan copied into a bundle: ``redact_plan_value`` (marks, then every equal string,
  then the look of values, then ``kinds.secrets.mask_tree`` for what is left) writes the plan
  back without any plaintext secret.
"""

from __future__ import annotations

from typing import Any

from affidavit.collectors.kinds.secrets import (
    MIN_SCRUB_LENGTH,
    credential_candidates,
    literal_value,
    looks_secret,
    mask_tree,
    mask_tree_known,
    secret_name,
)
from affidavit.jsonwrite import compact_json_line, compact_json_line_pieces
from affidavit.spool import SpooledCopy, spooled_pieces

SENSITIVE = "(sensitive)"


def has_mark(sens: Any) -> bool:
    """True when a ``*_sensitive`` mirror marks anything at all."""
    if sens is True:
        return True
    if isinstance(sens, dict):
        return any(has_mark(v) for v in sens.values())
    if isinstance(sens, list):
        return any(has_mark(v) for v in sens)
    return False


def add_leaves(value: Any, leaves: set[str]) -> None:
    """Add to ``leaves`` every string of ``value`` (itself, or inside it) of 3 characters or more,
    unless ``value`` is the marker itself: what a masked value held, to be masked wherever else
    it appears."""
    if value == SENSITIVE:
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) >= 3:
                leaves.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def mask_marked(
    value: Any, sens: Any, path: list[Any], masked: list[list[Any]], leaves: set[str] | None = None
) -> Any:
    """``value`` with every place ``sens`` marks replaced by ``"(sensitive)"``.

    Copy-on-write: containers are copied only along the paths that hold a mark, so an unmarked
    value is returned as the very same object (no cost on the common case). ``leaves``, when
    given, receives the strings of every value replaced (``add_leaves``): the plaintext that may
    appear again where nothing marks it.
    """
    if sens is True:
        masked.append(list(path))
        if leaves is not None:
            add_leaves(value, leaves)
        return SENSITIVE
    if isinstance(sens, dict) and sens:
        if not isinstance(value, dict):
            if value is None or not has_mark(sens):
                return value
            masked.append(list(path))  # marks and value disagree in shape: mask it all
            if leaves is not None:
                add_leaves(value, leaves)
            return SENSITIVE
        out: dict[str, Any] | None = None
        for key, mark in sens.items():
            if not mark or key not in value:  # False, {} and [] mark nothing
                continue
            old = value[key]
            path.append(key)
            new = mask_marked(old, mark, path, masked, leaves)
            path.pop()
            if new is not old:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(sens, list) and sens:
        if not isinstance(value, list):
            if value is None or not has_mark(sens):
                return value
            masked.append(list(path))
            if leaves is not None:
                add_leaves(value, leaves)
            return SENSITIVE
        items: list[Any] | None = None
        for i, mark in enumerate(sens):
            if not mark or i >= len(value):
                continue
            old = value[i]
            path.append(i)
            new = mask_marked(old, mark, path, masked, leaves)
            path.pop()
            if new is not old:
                if items is None:
                    items = list(value)
                items[i] = new
        return value if items is None else items
    return value


# Values that look like secrets although nothing marks them (old plans without marks, a key in
# user_data, a password in a Lambda environment) are masked too, and the collectors say so.


def _literal(value: str) -> bool:
    """True for a string that is a value, not masked already and not an unevaluated expression."""
    return bool(value.strip()) and value != SENSITIVE and not value.startswith("${")


class SecretLooks:
    """What ``scrub_secrets`` asks of strings and names (``looks_secret``, ``secret_name``), each
    answered once per distinct string: a plan repeats its values many times over (the same tags,
    regions and ARNs on every resource), and every planned value of every change is looked at."""

    __slots__ = ("_looks", "_names", "_unnamed")

    def __init__(self) -> None:
        self._looks: dict[str, bool] = {}
        self._names: dict[str, bool] = {}
        self._unnamed: dict[str, bool] = {}  # _literal(text) and looks_secret(text)

    def looks(self, text: str) -> bool:
        """``looks_secret(text)``."""
        found = self._looks.get(text)
        if found is None:
            found = self._looks[text] = looks_secret(text)
        return found

    def name(self, key: str) -> bool:
        """``secret_name(key)``."""
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = secret_name(key)
        return found

    def masks(self, key: Any, text: str) -> bool:
        """Whether ``scrub_secrets`` masks the string ``text`` under the name ``key``: a literal
        under a name that says secret, or a literal that looks like a secret wherever it stands."""
        if self.name(str(key)):
            return _literal(text) and (literal_value(text) or self.looks(text))
        return self.masks_anywhere(text)

    def masks_anywhere(self, text: str) -> bool:
        """Whether ``text`` is a literal that looks like a secret (masked under any name, and as
        an item of a list)."""
        found = self._unnamed.get(text)
        if found is None:
            found = self._unnamed[text] = _literal(text) and self.looks(text)
        return found


def scrub_secrets(
    value: Any, path: list[Any], masked: list[list[Any]], judge: SecretLooks | None = None
) -> Any:
    """``value`` with every string that looks like a secret replaced by ``"(sensitive)"``.

    A string is masked when it holds a well-known credential format, or when it is a literal
    under a key whose name says secret (``password``, ``AWS_SECRET_ACCESS_KEY``, ``api_key``...).
    Copy-on-write, like ``mask_marked``; masked places are appended to ``masked``. ``judge``: the
    answers already given for this document's strings (one is made when none is given).
    """
    if judge is None:
        judge = SecretLooks()
    masks = judge.masks
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for key, item in value.items():
            if isinstance(item, str):
                if not masks(key, item):
                    continue
                new: Any = SENSITIVE
                masked.append([*path, key])
            elif isinstance(item, list) and judge.name(str(key)) and all(isinstance(x, str) for x in item):
                new = [SENSITIVE if _literal(x) else x for x in item]
                if new != item:
                    masked.append([*path, key])
                else:
                    continue
            elif isinstance(item, dict | list):
                path.append(key)
                new = scrub_secrets(item, path, masked, judge)
                path.pop()
                if new is item:
                    continue
            else:
                continue
            if out is None:
                out = dict(value)
            out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items: list[Any] | None = None
        for i, item in enumerate(value):
            if isinstance(item, str):
                if not judge.masks_anywhere(item):
                    continue
                new = SENSITIVE
                masked.append([*path, i])
            elif isinstance(item, dict | list):
                path.append(i)
                new = scrub_secrets(item, path, masked, judge)
                path.pop()
                if new is item:
                    continue
            else:
                continue
            if items is None:
                items = list(value)
            items[i] = new
        return value if items is None else items
    return value


def mask_equal(value: Any, plaintexts: set[str], path: list[Any], masked: list[list[Any]]) -> Any:
    """``value`` with every string (never a key) found in ``plaintexts`` replaced by
    ``"(sensitive)"``, each place appended to ``masked``; copy-on-write, like ``mask_marked``.

    For a value Terraform marks in one place of a resource and writes unmarked in another: it marks
    only the paths the configuration's sensitive values reach, so an attribute the provider computes
    from them (``tags_all``, the tags merged with ``default_tags``) carries the plaintext unmarked."""
    if isinstance(value, str):
        if value in plaintexts:
            masked.append(list(path))
            return SENSITIVE
        return value
    if not isinstance(value, dict | list):
        return value
    copy: Any = None
    for place, item in value.items() if isinstance(value, dict) else enumerate(value):
        path.append(place)
        new = mask_equal(item, plaintexts, path, masked)
        path.pop()
        if new is not item:
            if copy is None:
                copy = dict(value) if isinstance(value, dict) else list(value)
            copy[place] = new
    return value if copy is None else copy


# ---------------------------------------------------------------------------------------------
# Redaction of a raw plan for evidence bundles


def redact_plan_value(plan: dict[str, Any], *, floats: bool | None = None) -> bytes:
    """The plan with every sensitive value masked, as the bytes an evidence bundle stores
    (``redacted_plan``, written as compact JSON with sorted keys and a line break)."""
    return compact_json_line(redacted_plan(plan), sort_keys=True, floats=floats)


def redact_plan_copy(plan: dict[str, Any], *, floats: bool | None = None) -> bytes | SpooledCopy:
    """``redact_plan_value``'s bytes, written a piece at a time into a ``SpooledCopy`` when they are
    large (``spool.spooled_pieces``): a large plan's copy is never held whole in memory, where it
    was the peak of the gate's collection."""
    redacted = redacted_plan(plan)
    return spooled_pieces(lambda: compact_json_line_pieces(redacted, floats=floats))


def redacted_plan(plan: dict[str, Any]) -> Any:
    """The plan with every sensitive value masked: the value an evidence bundle stores.

    ``plan`` is the parsed plan: the one parse the collector made (its top-level change, resource,
    output and variable objects are changed in place; the values inside them are never changed,
    so a record built from them keeps what it holds). Terraform writes sensitive values in clear
    and marks them in mirror objects. This masks, by those marks, ``resource_changes`` and
    ``resource_drift`` (``before``/``after``), ``output_changes``, the resources and outputs of
    ``planned_values`` and ``prior_state`` (``sensitive_values``), and the input ``variables`` the
    configuration declares sensitive, noting the strings each masked value held; then every string
    equal to one of those (the input variable it came from, a constant in the configuration); then
    every value that looks like a credential (``scrub_secrets``), as the collectors do, and
    ``kinds.secrets.mask_tree`` for what is left. Every step after the marks is copy-on-write: only
    the containers along a changed path are new. The bundle stores it as compact JSON with sorted
    keys (the raw bytes cannot be kept: they hold the secrets); ``floats``, for the writers: whether
    the parse of the plan met a float (``Artefact.json_floats``; ``None``: not known).
    """
    masked: list[list[Any]] = []
    leaves: set[str] = set()
    for section in ("resource_changes", "resource_drift"):
        for rc in plan.get(section) or []:
            change = rc.get("change") if isinstance(rc, dict) else None
            if isinstance(change, dict):
                _mask_change(change, masked, leaves)
    for change in (plan.get("output_changes") or {}).values():
        if isinstance(change, dict):
            _mask_change(change, masked, leaves)
    for section in ("planned_values", "prior_state"):
        state = plan.get(section)
        if isinstance(state, dict):
            values: dict[str, Any] = state["values"] if isinstance(state.get("values"), dict) else state
            _mask_module(values.get("root_module"), masked, leaves)
            for output in (values.get("outputs") or {}).values():
                if isinstance(output, dict) and output.get("sensitive") and "value" in output:
                    add_leaves(output["value"], leaves)
                    output["value"] = SENSITIVE
    config_vars = ((plan.get("configuration") or {}).get("root_module") or {}).get("variables") or {}
    for name, variable in (plan.get("variables") or {}).items():
        declared = config_vars.get(name) if isinstance(config_vars, dict) else None
        if isinstance(variable, dict) and isinstance(declared, dict) and declared.get("sensitive"):
            if "value" in variable:
                add_leaves(variable["value"], leaves)
            variable["value"] = SENSITIVE
    # A sensitive value also appears where nothing marks it (the input variable it came from,
    # a constant in the configuration): mask every string equal to one masked above, and every
    # string that looks like a secret (``_scrub_plan``: both in one walk).
    # Then what is left anywhere (a key, a config constant): ``kinds.secrets.mask_tree``.
    # Masking replaces strings with strings only: a plan parsed without a float holds none still.
    return _scrub_plan(plan, leaves)


def _scrub_plan(plan: dict[str, Any], leaves: set[str]) -> Any:
    """``mask_tree(scrub_secrets(P))`` where ``P`` is ``plan`` with every string equal to one of
    ``leaves`` masked: the same result, in one copy-on-write walk in the usual case.

    ``scrub_secrets`` asks ``looks_secret`` of every string and ``mask_tree`` walks the tree again,
    which costs seconds on a large plan. Here one walk masks the equal strings and the literals
    under secret names (``scrub_secrets``'s rules by name, which depend on the place), notes every
    string and name, and the strings ``mask_tree`` would mask by their name (a list's strings under
    the name of the key above it); then one scan of them all (``kinds.secrets.credential_candidates``)
    finds the few that can hold a credential. Masking by looks alone depends on the string, not
    its place: when no string is masked so, the result is finished by ``mask_tree_known`` without
    another walk; otherwise the looks are applied and ``mask_tree`` runs as usual. The walk
    recurses as deep as the plan is nested, which its reader bounds (``artefact.load_json``).
    """
    strings: list[str] = []
    names: dict[str, bool] = {}  # each key, and whether it says secret
    says_secret: set[str] = set()  # strings of lists under a secret name (``mask_tree``'s rule)
    add = strings.append
    judged = names.get

    def in_dict(node: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] | None = None
        for key, child in node.items():
            named = judged(key)  # inline: a call per key costs 0.2 s on a large plan
            if named is None:
                named = names[key] = secret_name(str(key))
            kind = type(child)
            if kind is str:
                new: Any = child
                if child in leaves:
                    new = SENSITIVE
                elif named and _literal(child) and literal_value(child):
                    new = SENSITIVE
                add(new)
            elif kind is dict:
                if not child:  # a third of a plan's containers are empty: no call for them
                    continue
                new = in_dict(child)
            elif kind is list:
                if not child:
                    continue
                if named and all(type(x) is str for x in child):
                    # a list of literals under a secret name (``scrub_secrets``): masked whole; what
                    # is left (blank, expressions) is nothing ``mask_tree`` masks by name either
                    items = [SENSITIVE if x in leaves or _literal(x) else x for x in child]
                    new = child if items == child else items
                    strings.extend(new)
                else:
                    new = in_list(child, named)
            else:
                continue
            if new is not child:
                if out is None:
                    out = dict(node)
                out[key] = new
        return node if out is None else out

    def in_list(node: list[Any], named: bool) -> list[Any]:
        changed: list[Any] | None = None
        for i, child in enumerate(node):
            kind = type(child)
            if kind is str:
                new: Any = SENSITIVE if child in leaves else child
                add(new)
                if named and len(new) >= MIN_SCRUB_LENGTH and literal_value(new):
                    says_secret.add(new)
            elif kind is dict:
                if not child:
                    continue
                new = in_dict(child)
            elif kind is list:
                if not child:
                    continue
                new = in_list(child, named)
            else:
                continue
            if new is not child:
                if changed is None:
                    changed = list(node)
                changed[i] = new
        return node if changed is None else changed

    try:
        scrubbed = in_dict(plan)
        suspects = credential_candidates(strings + list(names))
    finally:
        # ``in_dict`` and ``in_list`` call each other through their closures, a reference cycle:
        # what they hold would outlive this call until the cyclic collector runs (the gate pauses
        # it), and ``strings`` holds every string of the plan, which would outlive the plan.
        strings.clear()
        names.clear()
    looking = {text for text in suspects if _literal(text) and looks_secret(text)}
    if looking:  # rare: values that look like credentials; the plain path, exactly
        return mask_tree(mask_equal(scrubbed, looking, [], []))
    return mask_tree_known(scrubbed, suspects, says_secret)


def _mask_change(change: dict[str, Any], masked: list[list[Any]], leaves: set[str]) -> None:
    """Mask a change's ``before``/``after`` by their ``*_sensitive`` mirrors, in place."""
    for side in ("before", "after"):
        if side in change:
            change[side] = mask_marked(change[side], change.get(f"{side}_sensitive"), [], masked, leaves)


def _mask_module(module: Any, masked: list[list[Any]], leaves: set[str]) -> None:
    """Mask a state module's resource values by their ``sensitive_values``, recursively, in place."""
    if not isinstance(module, dict):
        return
    for resource in module.get("resources") or []:
        if isinstance(resource, dict) and "values" in resource:
            resource["values"] = mask_marked(
                resource["values"], resource.get("sensitive_values"), [], masked, leaves
            )
    for child in module.get("child_modules") or []:
        _mask_module(child, masked, leaves)
