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

import json
from typing import Any

from affidavit.collectors.kinds.secrets import looks_secret, mask_tree, secret_name, secret_setting

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


def mask_marked(value: Any, sens: Any, path: list[Any], masked: list[list[Any]]) -> Any:
    """``value`` with every place ``sens`` marks replaced by ``"(sensitive)"``.

    Copy-on-write: containers are copied only along the paths that hold a mark, so an unmarked
    value is returned as the very same object (no cost on the common case).
    """
    if sens is True:
        masked.append(list(path))
        return SENSITIVE
    if isinstance(sens, dict) and sens:
        if not isinstance(value, dict):
            if value is None or not has_mark(sens):
                return value
            masked.append(list(path))  # marks and value disagree in shape: mask it all
            return SENSITIVE
        out: dict[str, Any] | None = None
        for key, mark in sens.items():
            if not mark or key not in value:  # False, {} and [] mark nothing
                continue
            old = value[key]
            path.append(key)
            new = mask_marked(old, mark, path, masked)
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
            return SENSITIVE
        items: list[Any] | None = None
        for i, mark in enumerate(sens):
            if not mark or i >= len(value):
                continue
            old = value[i]
            path.append(i)
            new = mask_marked(old, mark, path, masked)
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


def scrub_secrets(value: Any, path: list[Any], masked: list[list[Any]]) -> Any:
    """``value`` with every string that looks like a secret replaced by ``"(sensitive)"``.

    A string is masked when it holds a well-known credential format, or when it is a literal
    under a key whose name says secret (``password``, ``AWS_SECRET_ACCESS_KEY``, ``api_key``...).
    Copy-on-write, like ``mask_marked``; masked places are appended to ``masked``.
    """
    if isinstance(value, dict):
        out: dict[str, Any] | None = None
        for key, item in value.items():
            path.append(key)
            if isinstance(item, str):
                new: Any = item
                if _literal(item) and (secret_setting(str(key), item) or looks_secret(item)):
                    new = SENSITIVE
                    masked.append(list(path))
            elif isinstance(item, list) and secret_name(str(key)) and all(isinstance(x, str) for x in item):
                new = [SENSITIVE if _literal(x) else x for x in item]
                if new != item:
                    masked.append(list(path))
                else:
                    new = item
            else:
                new = scrub_secrets(item, path, masked)
            path.pop()
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items: list[Any] | None = None
        for i, item in enumerate(value):
            path.append(i)
            if isinstance(item, str):
                new = item
                if _literal(item) and looks_secret(item):
                    new = SENSITIVE
                    masked.append(list(path))
            else:
                new = scrub_secrets(item, path, masked)
            path.pop()
            if new is not item:
                if items is None:
                    items = list(value)
                items[i] = new
        return value if items is None else items
    return value


# ---------------------------------------------------------------------------------------------
# Redaction of a raw plan for evidence bundles


def redact_plan_value(plan: dict[str, Any], original: Any) -> bytes:
    """The plan with every sensitive value masked, as the bytes an evidence bundle stores.

    ``plan`` is the parsed plan (changed in place); ``original`` is a second, untouched parse of
    the same plan, used to find the plaintext of every masked value. Terraform writes sensitive
    values in clear and marks them in mirror objects. This masks, by those marks,
    ``resource_changes`` and ``resource_drift`` (``before``/``after``), ``output_changes``, the
    resources and outputs of ``planned_values`` and ``prior_state`` (``sensitive_values``), and
    the input ``variables`` the configuration declares sensitive; then every string equal to a
    masked value (the input variable it came from, a constant in the configuration); then every
    value that looks like a credential (``scrub_secrets``), as the collectors do. The result is
    compact JSON with sorted keys (the raw bytes cannot be kept: they hold the secrets).
    """
    masked: list[list[Any]] = []
    for section in ("resource_changes", "resource_drift"):
        for rc in plan.get(section) or []:
            change = rc.get("change") if isinstance(rc, dict) else None
            if isinstance(change, dict):
                _mask_change(change, masked)
    for change in (plan.get("output_changes") or {}).values():
        if isinstance(change, dict):
            _mask_change(change, masked)
    for section in ("planned_values", "prior_state"):
        state = plan.get(section)
        if isinstance(state, dict):
            values: dict[str, Any] = state["values"] if isinstance(state.get("values"), dict) else state
            _mask_module(values.get("root_module"), masked)
            for output in (values.get("outputs") or {}).values():
                if isinstance(output, dict) and output.get("sensitive") and "value" in output:
                    output["value"] = SENSITIVE
    config_vars = ((plan.get("configuration") or {}).get("root_module") or {}).get("variables") or {}
    for name, variable in (plan.get("variables") or {}).items():
        declared = config_vars.get(name) if isinstance(config_vars, dict) else None
        if isinstance(variable, dict) and isinstance(declared, dict) and declared.get("sensitive"):
            variable["value"] = SENSITIVE
    # A sensitive value also appears where nothing marks it (the input variable it came from,
    # a constant in the configuration): mask every string equal to one masked above.
    redacted = _mask_equal(plan, _sensitive_leaves(original, plan))
    redacted = scrub_secrets(redacted, [], masked)
    redacted = mask_tree(redacted)  # what is left anywhere (a key, a config constant): kinds.secrets
    return (json.dumps(redacted, separators=(",", ":"), sort_keys=True) + "\n").encode()


def _sensitive_leaves(original: Any, redacted: Any) -> set[str]:
    """Strings of ``original`` that sit where ``redacted`` now says ``(sensitive)``."""
    out: set[str] = set()
    if isinstance(redacted, str):
        if redacted == SENSITIVE and original != SENSITIVE:
            stack = [original]
            while stack:
                item = stack.pop()
                if isinstance(item, str) and len(item) >= 3:
                    out.add(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
                elif isinstance(item, list):
                    stack.extend(item)
        return out
    if isinstance(redacted, dict) and isinstance(original, dict):
        for key, value in redacted.items():
            if key in original:
                out |= _sensitive_leaves(original[key], value)
    elif isinstance(redacted, list) and isinstance(original, list):
        for old, new in zip(original, redacted, strict=False):
            out |= _sensitive_leaves(old, new)
    return out


def _mask_equal(value: Any, secrets: set[str]) -> Any:
    """``value`` with every string equal to one of ``secrets`` masked."""
    if not secrets:
        return value
    if isinstance(value, str):
        return SENSITIVE if value in secrets else value
    if isinstance(value, dict):
        return {k: _mask_equal(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_equal(v, secrets) for v in value]
    return value


def _mask_change(change: dict[str, Any], masked: list[list[Any]]) -> None:
    """Mask a change's ``before``/``after`` by their ``*_sensitive`` mirrors, in place."""
    for side in ("before", "after"):
        if side in change:
            change[side] = mask_marked(change[side], change.get(f"{side}_sensitive"), [], masked)


def _mask_module(module: Any, masked: list[list[Any]]) -> None:
    """Mask a state module's resource values by their ``sensitive_values``, recursively, in place."""
    if not isinstance(module, dict):
        return
    for resource in module.get("resources") or []:
        if isinstance(resource, dict) and "values" in resource:
            resource["values"] = mask_marked(resource["values"], resource.get("sensitive_values"), [], masked)
    for child in module.get("child_modules") or []:
        _mask_module(child, masked)
