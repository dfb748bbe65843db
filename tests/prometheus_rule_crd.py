"""prometheus-operator v0.93.0's PrometheusRule CRD schema as the API server enforces it (strict decoding:
unknown fields rejected), for the tests that check rendered PrometheusRules (copy: tests/data/README.md)."""

import functools
from typing import Any

import yaml
from conftest import DATA

API_GROUP = "monitoring.coreos.com/"
CRD_FILE = DATA / "crds" / "prometheus-operator-v0.93.0" / "monitoring.coreos.com_prometheusrules.yaml"


def _strict(schema: Any) -> Any:
    """Objects with declared properties reject unknown fields; Go's ``^(?i)`` is Python's ``(?i)^``."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        pattern = out.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("^(?i)"):
            out["pattern"] = "(?i)^" + pattern.removeprefix("^(?i)")
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.cache
def schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD_FILE.read_text())
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return dict(_strict(version["schema"]["openAPIV3Schema"]))
