"""Check JSON values against the Bot API description in api.json (read at test time).

Only what the spec states is checked: required fields, field types (including unions, arrays and
abstract types with subtypes) and that no field outside the spec appears.
"""

import json
from pathlib import Path
from typing import Any

_SCALARS = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
}


class ApiSpec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version = data.get("version", "")
        self.types: dict[str, dict] = data["types"]
        self.methods: dict[str, dict] = data["methods"]
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path) -> "ApiSpec":
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method(self, name: str) -> dict[str, Any] | None:
        real = self._by_lower.get(name.lower())
        return self.methods[real] if real else None

    def errors(self, value: Any, type_expr: str, where: str = "$") -> list[str]:
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: expected {type_expr}, got {type(value).__name__}"]
            inner = type_expr.removeprefix("Array of ")
            return [
                e for i, item in enumerate(value) for e in self.errors(item, inner, f"{where}[{i}]")
            ]
        if type_expr in _SCALARS:
            ok = _SCALARS[type_expr](value)
            return [] if ok else [f"{where}: expected {type_expr}, got {value!r}"]
        if type_expr not in self.types:
            return [f"{where}: type {type_expr} is not in the spec"]
        return self._object_errors(value, self.types[type_expr], where)

    def union_errors(self, value: Any, type_exprs: list[str], where: str = "$") -> list[str]:
        """Errors for the best-matching alternative; empty when any alternative fits."""
        attempts = [self.errors(value, expr, where) for expr in type_exprs]
        return min(attempts, key=len) if attempts else []

    def _object_errors(self, value: Any, spec: dict[str, Any], where: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: expected {spec['name']} object, got {type(value).__name__}"]
        if spec.get("subtypes"):
            return self.union_errors(value, spec["subtypes"], where)
        fields = {field["name"]: field for field in spec.get("fields", [])}
        problems = [f"{where}.{name}: unexpected field" for name in value if name not in fields]
        for name, field in fields.items():
            if name in value:
                problems += self.union_errors(value[name], field["types"], f"{where}.{name}")
            elif field.get("required"):
                problems.append(f"{where}.{name}: required field missing")
        return problems

    def result_errors(self, method: str, result: Any) -> list[str]:
        spec = self.method(method)
        if spec is None:
            return [f"method {method} is not in the spec"]
        return self.union_errors(result, spec.get("returns", []), f"{method}()")

    def unknown_params(self, method: str, params: dict[str, Any]) -> list[str]:
        spec = self.method(method) or {}
        known = {field["name"] for field in spec.get("fields", [])}
        return sorted(name for name in params if name not in known)
