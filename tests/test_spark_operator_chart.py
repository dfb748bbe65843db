"""The spark-operator's plain objects against the pinned chart: its own helm-unittest suites and values.yaml.

``tests/spark_operator_chart_tests`` holds ``charts/spark-operator-chart/tests/{controller,spark}``
of kubeflow/spark-operator at tag v2.5.2, unchanged: the suites of every template flow-platform
renders. Each runs against ``flow_platform.openflow.spark_operator_chart.render`` with the suite's
release, ``set`` values and capabilities, with the assertion kinds helm-unittest defines. No helm
binary can be installed here (PyPI, Debian and npm have none).
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_platform.k8s.chart import merge_values
from flow_platform.openflow import spark_operator_chart as chart
from test_flink_chart import _select

SUITES = Path(__file__).parent / "spark_operator_chart_tests"


def _expand(values: dict[str, Any]) -> dict[str, Any]:
    """helm-unittest ``set`` accepts dotted keys as well as nested maps."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        nested: dict[str, Any] = {leaf: value}
        for parent in reversed(parents):
            nested = {parent: nested}
        out = merge_values(out, nested)
    return out


def _without(values: dict[str, Any], paths: set[str], prefix: str = "") -> dict[str, Any]:
    return {
        k: _without(v, paths, f"{prefix}{k}.") if isinstance(v, dict) else v
        for k, v in values.items()
        if f"{prefix}{k}" not in paths
    }


def _check(assertion: dict[str, Any], docs: list[dict[str, Any]]) -> None:
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
            found = _select(doc, spec["path"])
            if kind == "equal":
                assert found and all(v == spec["value"] for v in found), (spec, found)
            elif kind == "notExists":
                assert not found, (spec, found)
            elif kind in ("contains", "notContains"):
                items = [e for v in found if isinstance(v, list) for e in v]
                # helm-unittest has no ``pattern`` option: one upstream case's notContains
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


def _cases() -> list[Any]:
    cases = []
    for file in sorted(SUITES.rglob("*_test.yaml")):
        suite = yaml.safe_load(file.read_text())
        for case in suite["tests"]:
            cases.append(pytest.param(suite, case, id=f"{file.parent.name}-{file.stem}-{len(cases)}"))
    return cases


CASES = _cases()
WEBHOOK_OFF = {"webhook": {"enable": False}}
"""The suites run with the chart's defaults; the webhook's templates are not among those rendered
and do not change the controller's or the job namespaces' objects."""


def test_every_suite_of_the_rendered_templates_runs() -> None:
    assert len(CASES) == 103
    templates = {t for p in CASES for t in p.values[0]["templates"]}
    assert templates == set(chart.render(WEBHOOK_OFF, "spark-operator"))


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_chart_unit_test(suite: dict[str, Any], case: dict[str, Any]) -> None:
    overrides = merge_values(WEBHOOK_OFF, _expand(case.get("set") or {}))
    unknown = set(chart.unknown_keys(overrides))  # one upstream case sets controller.maxDelay
    overrides = _without(overrides, unknown)  # Helm ignores unknown keys; so does this run
    capabilities = case.get("capabilities") or {}
    kube = (int(capabilities.get("majorVersion", 1)), int(capabilities.get("minorVersion", 32)))
    release = suite["release"]
    failures = [a["failedTemplate"] for a in case["asserts"] if "failedTemplate" in a]
    if failures:
        with pytest.raises(ValueError, match=failures[0]["errorMessage"]):
            chart.render(overrides, release["namespace"], release["name"], kube)
        return
    rendered = chart.render(overrides, release["namespace"], release["name"], kube)
    docs = [d for t in suite["templates"] for d in rendered[t]]
    selected = [docs[case["documentIndex"]]] if "documentIndex" in case else docs
    for assertion in case["asserts"]:
        # hasDocuments counts the template's documents whatever documentIndex selects
        _check(assertion, docs if "hasDocuments" in assertion else selected)
