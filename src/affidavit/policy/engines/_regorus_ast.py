"""Reading regorus' JSON AST (``Engine.get_ast_as_json()``) into engine-neutral module facts.

The facts (package, imports, rules defined, function calls with their positions, data references)
are what the loader's checks and the ``policy test`` runner need; nothing else of the AST is used.
The AST's spans carry a line, a column and *byte* offsets into the module text.
"""

from __future__ import annotations

from typing import Any

from affidavit.policy.facts import Call, ModuleInfo, RuleDef


def ref_parts(node: Any) -> tuple[str, ...] | None:
    """A reference expression (``a.b["c"].d``) as its name parts, or None when it is not a plain ref."""
    if not isinstance(node, dict) or len(node) != 1:
        return None
    ((tag, body),) = node.items()
    if tag == "Var":
        return (str(body["value"]),)
    if tag == "RefDot":
        head = ref_parts(body["refr"])
        if head is None:
            return None
        field = body["field"]
        return (*head, str(field[1]))
    if tag == "RefBrack":
        head = ref_parts(body["refr"])
        index = body.get("index")
        if head is None or not isinstance(index, dict) or "String" not in index:
            return None
        return (*head, str(index["String"]["value"]))
    return None


def _span_of(node: Any) -> tuple[int, int]:
    """Line and column where an expression starts (a reference starts at its first name)."""
    while isinstance(node, dict) and len(node) == 1:
        ((tag, body),) = node.items()
        if not isinstance(body, dict):
            break
        if tag in ("RefDot", "RefBrack") and isinstance(body.get("refr"), dict):
            node = body["refr"]
            continue
        span = body.get("span")
        if isinstance(span, dict):
            return int(span.get("line", 0)), int(span.get("col", 0))
        break
    return 0, 0


def _collect(root: Any, calls: list[Call], refs: set[tuple[str, ...]]) -> None:
    """Every call (with its position) and every reference below ``root`` (one pass, no recursion)."""
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        current = pop()
        if isinstance(current, list):
            for item in current:
                # a field is [span, name]: the span dict says nothing here
                if isinstance(item, dict | list) and not (isinstance(item, dict) and "line" in item):
                    push(item)
            continue
        if not isinstance(current, dict):
            continue
        if len(current) == 1:
            ((tag, body),) = current.items()
            if tag == "Call" and isinstance(body, dict):
                name = ref_parts(body.get("fcn"))
                line, col = _span_of(body.get("fcn"))
                params = body.get("params") or []
                calls.append(Call(".".join(name) if name else "<dynamic>", line, col, len(params)))
            elif tag in ("RefDot", "RefBrack") and isinstance(body, dict):
                parts = ref_parts(current)
                if parts is not None:
                    refs.add(parts)
            elif tag == "Var" and isinstance(body, dict):
                refs.add((str(body["value"]),))
                continue
        for key, value in current.items():
            if key != "span" and isinstance(value, dict | list):
                push(value)


def _rule_def(rule: Any) -> RuleDef | None:
    """Name, kind and line of one rule (``Spec`` or ``Default``)."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    ((tag, body),) = rule.items()
    if tag == "Default":
        parts = ref_parts(body["refr"])
        line, _ = _span_of(body["refr"])
        span = body.get("span") or {}
        return RuleDef(parts or ("?",), "default", int(span.get("line", line)))
    if tag != "Spec":
        return None
    head = body["head"]
    ((head_tag, head_body),) = head.items()
    kind = {"Set": "set", "Compr": "complete", "Func": "function"}.get(head_tag, head_tag.lower())
    parts = ref_parts(head_body["refr"])
    if parts is None:
        # A ref head with a variable index (``obj[k] := v``): keep the static prefix.
        parts = _static_prefix(head_body["refr"])
        if kind == "complete":
            kind = "object"
    span = body.get("span") or {}
    return RuleDef(parts, kind, int(span.get("line", 0)))


def _static_prefix(node: Any) -> tuple[str, ...]:
    """The leading name parts of a reference whose tail is not static."""
    if not isinstance(node, dict) or len(node) != 1:
        return ("?",)
    ((tag, body),) = node.items()
    if tag in ("RefBrack", "RefDot"):
        full = ref_parts(node)
        return full if full is not None else _static_prefix(body["refr"])
    if tag == "Var":
        return (str(body["value"]),)
    return ("?",)


def module_info(path: str, text: str, ast: dict[str, Any]) -> ModuleInfo:
    """The facts of one parsed module: package, imports, rules, calls and data references."""
    raw = text.encode("utf-8")
    package = ref_parts(ast["package"]["refr"]) or ()
    package_line = int(ast["package"]["span"]["line"])
    imports: dict[str, tuple[str, ...]] = {}
    for imp in ast.get("imports", []):
        parts = ref_parts(imp["refr"])
        if parts is None or parts[0] not in ("data", "input"):
            continue  # rego.v1, future.keywords
        alias_span = imp.get("as")
        if isinstance(alias_span, dict):
            alias = raw[int(alias_span["start"]) : int(alias_span["end"])].decode("utf-8")
        else:
            alias = parts[-1]
        imports[alias] = parts

    rules = tuple(r for r in (_rule_def(rule) for rule in ast.get("rules", [])) if r is not None)

    calls: list[Call] = []
    refs: set[tuple[str, ...]] = set()
    _collect(ast.get("rules", []), calls, refs)
    calls.sort(key=lambda c: (c.line, c.col, c.name))
    return ModuleInfo(
        path=path,
        package=".".join(package[1:]) if package[:1] == ("data",) else ".".join(package),
        package_line=package_line,
        imports=imports,
        rules=rules,
        calls=tuple(calls),
        refs=frozenset(refs),
    )
