"""OpenAPI 3.0 from FastAPI's 3.1 document, as OGC API – Features Part 1 (oas30) asks."""

from __future__ import annotations

from typing import Any


def _downgrade(node: Any) -> Any:
    if isinstance(node, list):
        return [_downgrade(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del node[key]
            if len(rest) == 1:
                only = rest[0]
                if "$ref" in only:  # siblings of $ref are ignored in 3.0: wrap it
                    node["allOf"] = [only]
                else:
                    node.update(only)
            else:
                node[key] = rest
            node["nullable"] = True
    node = {k: _downgrade(v) for k, v in node.items()}
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "examples" in node and isinstance(node["examples"], list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    if node.get("type") == "null":
        node.pop("type")
        node["nullable"] = True
    return node


def downgrade_to_openapi_30(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` rewritten to OpenAPI 3.0.3 (``nullable`` instead of ``type: null``).

    A query parameter is absent or has a value, never null: optional parameters lose
    ``nullable`` so that clients (and fuzzers) do not send ``?f=`` for "no value".
    """
    result = _downgrade(schema)
    result["openapi"] = "3.0.3"
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                parameter.get("schema", {}).pop("nullable", None)
    return result
