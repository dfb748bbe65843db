"""A runner of a chart's own helm-unittest suites against a Python renderer of the chart.

No helm binary can be installed here (PyPI, Debian and npm have none), so the suites copied from
upstream run through :func:`run_case`: the suite's release, the case's ``set`` values and
capabilities, ``failedTemplate`` expectations and the assertion kinds helm-unittest defines that
the suites use (equal, isNotNull, notExists, contains, notContains, containsDocument,
hasDocuments), with helm-unittest's semantics (``documentIndex`` selects the document the
assertions look at; ``hasDocuments`` counts all of the template's).
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_platform.k8s.chart import merge_values

Render = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, list[dict[str, Any]]]]
"""A chart renderer: (values, the suite's release, the case's capabilities) -> documents by template."""


def cases(suites: Path) -> list[Any]:
    """One ``pytest.param(suite, case)`` a test case of every ``*_test.yaml`` below ``suites``."""
    out = []
    for file in sorted(suites.rglob("*_test.yaml")):
        suite = yaml.safe_load(file.read_text())
        for case in suite["tests"]:
            out.append(pytest.param(suite, case, id=f"{file.parent.name}-{file.stem}-{len(out)}"))
    return out


def expand(values: dict[str, Any]) -> dict[str, Any]:
    """helm-unittest ``set`` accepts dotted keys as well as nested maps."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        nested: dict[str, Any] = {leaf: value}
        for parent in reversed(parents):
            nested = {parent: nested}
        out = merge_values(out, nested)
    return out


def without(values: dict[str, Any], paths: set[str], prefix: str = "") -> dict[str, Any]:
    """``values`` less the dotted ``paths``."""
    return {
        k: without(v, paths, f"{prefix}{k}.") if isinstance(v, dict) else v
        for k, v in values.items()
        if f"{prefix}{k}" not in paths
    }


def _segments(path: str) -> list[Any]:
    out: list[Any] = []
    for token in re.findall(r'\[\?\(@\.(\w+)=="([^"]*)"\)\]|\["([^"]+)"\]|\[(\*|\d+)\]|([^.\[\]]+)', path):
        field, value, quoted, index, name = token
        if field:
            out.append(("filter", field, value))
        elif quoted:
            out.append(quoted)
        elif index == "*":
            out.append(("all",))
        elif index:
            out.append(int(index))
        else:
            out.append(name)
    return out


def select(doc: Any, path: str) -> list[Any]:
    """The values at a helm-unittest path (dots, ``[n]``, ``[*]``, ``["key"]``, ``[?(@.f=="v")]``)."""
    current = [doc]
    for seg in _segments(path):
        nxt: list[Any] = []
        for item in current:
            if isinstance(seg, tuple) and seg[0] == "all" and isinstance(item, list):
                nxt += item
            elif isinstance(seg, tuple) and seg[0] == "filter" and isinstance(item, list):
                nxt += [e for e in item if isinstance(e, dict) and e.get(seg[1]) == seg[2]]
            elif (isinstance(seg, int) and isinstance(item, list) and seg < len(item)) or (
                isinstance(seg, str) and isinstance(item, dict) and seg in item
            ):
                nxt.append(item[seg])
        current = nxt
    return current


def check(assertion: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    """One helm-unittest assertion over ``docs``."""
    [(kind, spec)] = assertion.items()
    if kind == "hasDocuments":
        assert len(docs) == spec["count"]
    elif kind == "containsDocument":
        assert any(
            d["apiVersion"] == spec["apiVersion"]
            and d["kind"] == spec["kind"]
            and ("name" not in spec or d["metadata"]["name"] == spec["name"])
            and ("namespace" not in spec or d["metadata"].get("namespace") == spec["namespace"])
            for d in docs
        ), spec
    else:
        assert docs, f"{kind}: no document"
        for doc in docs:
            found = select(doc, spec["path"])
            if kind == "equal":
                assert found and all(v == spec["value"] for v in found), (spec, found)
            elif kind == "isNotNull":
                assert found and all(v is not None for v in found), spec
            elif kind == "notExists":
                assert not found, (spec, found)
            elif kind in ("contains", "notContains"):
                items = [e for v in found if isinstance(v, list) for e in v]
                # helm-unittest has no ``pattern`` option: one spark-operator case's notContains
                # without ``content`` looks for null, as it does there
                hits = items.count(spec.get("content"))
                if kind == "notContains":
                    assert hits == 0, (spec, items)
                elif "count" in spec:
                    assert hits == spec["count"], (spec, items)
                else:
                    assert hits >= 1, (spec, items)
            else:
                raise AssertionError(f"assertion {kind} not implemented")


def run_case(
    suite: dict[str, Any],
    case: dict[str, Any],
    render: Render,
    unknown_keys: Callable[[dict[str, Any]], list[str]],
    defaults: dict[str, Any] | None = None,
) -> None:
    """One test case of ``suite``: its ``set`` values over ``defaults``, less the keys the chart
    does not have (Helm ignores them; so does this run), rendered and asserted."""
    values = merge_values(defaults or {}, expand(case.get("set") or {}))
    values = without(values, set(unknown_keys(values)))
    capabilities = case.get("capabilities") or {}
    failures = [a["failedTemplate"] for a in case["asserts"] if "failedTemplate" in a]
    if failures:
        with pytest.raises(ValueError, match=failures[0]["errorMessage"]):
            render(values, suite["release"], capabilities)
        return
    rendered = render(values, suite["release"], capabilities)
    docs = [d for t in suite["templates"] for d in rendered[t]]
    selected = [docs[case["documentIndex"]]] if "documentIndex" in case else docs
    for assertion in case["asserts"]:
        # hasDocuments counts the template's documents whatever documentIndex selects
        check(assertion, docs if "hasDocuments" in assertion else selected)
