"""Would a reader of a published schema break on what the code now writes? (pure, no I/O)

Each released (type, version) is frozen as a baseline (docs/schemas/published/<type>/
v<N>.json). The schema the code generates for that version must stay readable by code
written against the baseline, and the baseline's records by the code. Breaking changes
found here:

* a field of the baseline removed (or renamed: removed plus added);
* a field's type changed, or widened to values the baseline's reader does not expect (a
  new type in a union, a new enum value);
* a new required field without a default (records of the baseline lack it), or a field
  that became required without a default;
* any new field where the baseline forbids additional properties (Tidemark's events do:
  an older reader, e.g. a replica not yet upgraded, refuses the record).

Such a change needs a new schema version and an upcaster instead.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def breaking_changes(baseline: Schema, current: Schema) -> list[str]:
    """What in `current` breaks a reader of `baseline` (empty: compatible)."""
    found: list[str] = []
    _compare(baseline, baseline, current, current, "$", found)
    return found


def _resolve(node: Any, root: Schema) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node, seen = target, seen + 1
    return node


def _options(node: Any, root: Schema) -> list[Any]:
    node = _resolve(node, root)
    if isinstance(node, dict):
        for key in ("anyOf", "oneOf"):
            if key in node:
                return [o for option in node[key] for o in _options(option, root)]
    return [node]


def _is_object(node: Any) -> bool:
    return isinstance(node, dict) and (node.get("type") == "object" or "properties" in node)


def _signature(node: Any, root: Schema) -> Any:
    """What a value of this schema looks like to a reader (objects compared separately)."""
    if not isinstance(node, dict):
        return repr(node)
    if _is_object(node):
        return ("object",)
    if "const" in node:
        return ("value", repr(node["const"]))
    if node.get("type") == "array":
        items = [_signature(o, root) for o in _options(node.get("items", {}), root)]
        return ("array", tuple(sorted(map(repr, items))))
    return (node.get("type", "any"), node.get("format"))


def _compare(
    base: Any, base_root: Schema, cur: Any, cur_root: Schema, path: str, found: list[str]
) -> None:
    base_options, cur_options = _options(base, base_root), _options(cur, cur_root)
    if len(base_options) == 1 and len(cur_options) == 1:
        b, c = base_options[0], cur_options[0]
        if _is_object(b) and _is_object(c):
            _compare_objects(b, base_root, c, cur_root, path, found)
            return
        if isinstance(b, dict) and isinstance(c, dict) and "enum" in b and "enum" in c:
            new = [v for v in c["enum"] if v not in b["enum"]]
            if new:
                found.append(f"{path}: new enum value(s) {new} a reader of the baseline refuses")
            return
    base_sigs = {repr(_signature(o, base_root)) for o in base_options}
    cur_sigs = {repr(_signature(o, cur_root)) for o in cur_options}
    wider = cur_sigs - base_sigs
    if wider:
        found.append(f"{path}: type changed ({sorted(base_sigs)} -> {sorted(cur_sigs)})")
    base_objects = [o for o in base_options if _is_object(o)]
    cur_objects = [o for o in cur_options if _is_object(o)]
    if len(base_objects) == 1 and len(cur_objects) == 1:
        _compare_objects(base_objects[0], base_root, cur_objects[0], cur_root, path, found)


def _compare_objects(
    b: Schema, base_root: Schema, c: Schema, cur_root: Schema, path: str, found: list[str]
) -> None:
    b_props, c_props = b.get("properties", {}), c.get("properties", {})
    b_required, c_required = set(b.get("required", [])), set(c.get("required", []))
    for name in b_props:
        if name not in c_props:
            found.append(f"{path}.{name}: field removed (or renamed)")
    for name, schema in c_props.items():
        has_default = isinstance(schema, dict) and "default" in schema
        if name not in b_props:
            if name in c_required and not has_default:
                found.append(f"{path}.{name}: new required field without a default")
            elif b.get("additionalProperties") is False:
                found.append(f"{path}.{name}: new field, the baseline forbids additional ones")
            continue
        if name in c_required and name not in b_required and not has_default:
            found.append(f"{path}.{name}: became required without a default")
        _compare(b_props[name], base_root, schema, cur_root, f"{path}.{name}", found)
