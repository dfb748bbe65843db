"""The operator's plain objects against the pinned chart: its own helm-unittest suites and values.yaml.

``tests/flink_chart_tests`` is ``helm/flink-kubernetes-operator/tests`` of
apache/flink-kubernetes-operator at tag release-1.15.0, unchanged. Each suite runs against
``flow_platform.flink.operator_chart.render`` with the suite's release and ``set`` values, with the
assertion kinds helm-unittest defines (equal, contains, notContains, containsDocument, hasDocuments,
isNotNull). No helm binary can be installed here (PyPI, Debian and npm have none).
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_platform.flink import operator_chart

SUITES = Path(__file__).parent / "flink_chart_tests"


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


def _select(doc: Any, path: str) -> list[Any]:
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


def _check(assertion: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    [(kind, spec)] = assertion.items()
    if kind == "hasDocuments":
        assert len(docs) == spec["count"]
    elif kind == "containsDocument":
        assert any(
            d["apiVersion"] == spec["apiVersion"]
            and d["kind"] == spec["kind"]
            and d["metadata"]["name"] == spec["name"]
            and ("namespace" not in spec or d["metadata"].get("namespace") == spec["namespace"])
            for d in docs
        ), spec
    else:
        assert docs, f"{kind}: no document"
        for doc in docs:
            found = _select(doc, spec["path"])
            if kind == "equal":
                assert found and all(v == spec["value"] for v in found), (spec, found)
            elif kind == "isNotNull":
                assert found and all(v is not None for v in found), spec
            elif kind in ("contains", "notContains"):
                items = [e for v in found if isinstance(v, list) for e in v]
                assert (spec["content"] in items) is (kind == "contains"), (spec, items)
            else:
                raise AssertionError(f"assertion {kind} not implemented")


def _cases() -> list[Any]:
    cases = []
    for file in sorted(SUITES.rglob("*_test.yaml")):
        suite = yaml.safe_load(file.read_text())
        for case in suite["tests"]:
            cases.append(pytest.param(suite, case, id=f"{file.stem}-{len(cases)}"))
    return cases


CASES = _cases()


def test_every_suite_of_the_chart_runs() -> None:
    assert len(CASES) == 60
    templates = {t for p in CASES for t in p.values[0]["templates"]}
    rendered = set(operator_chart.render({}, "flink-operator"))
    assert templates <= rendered


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_chart_unit_test(suite: dict[str, Any], case: dict[str, Any]) -> None:
    overrides = case.get("set") or {}
    unknown = set(operator_chart.unknown_keys(overrides))
    overrides = {k: v for k, v in overrides.items() if k not in unknown}  # Helm ignores them too
    rendered = operator_chart.render(overrides, suite["release"]["namespace"], suite["release"]["name"])
    docs = [d for t in suite["templates"] for d in rendered[t]]
    if "documentIndex" in case:
        docs = [docs[case["documentIndex"]]]
    for assertion in case["asserts"]:
        _check(assertion, docs)


def test_values_flow_platform_sets_exist_in_the_charts_values_yaml() -> None:
    from flow_platform.flink import operator_values

    values = operator_values(
        "registry/flink-kubernetes-operator",
        "1.15.0",
        "flink-operator-prd",
        ["flink-prd"],
        {"kubernetes.operator.user.artifacts.allowed-schemes": "https"},
        webhook_password_secret="flink-operator-webhook-keystore",
    )
    assert operator_chart.unknown_keys(values) == []
    assert operator_chart.unknown_keys({"operatorPod": {"resource": {}}}) == ["operatorPod.resource"]
    with pytest.raises(ValueError, match=r"not values of flink-kubernetes-operator 1\.15\.0: webhok"):
        operator_chart.render({"webhok": {"create": True}}, "ns")


def test_the_shipped_chart_is_the_pinned_release() -> None:
    meta = operator_chart.chart_metadata()
    assert (meta["name"], meta["version"], meta["appVersion"]) == (
        "flink-kubernetes-operator",
        "1.15.0",
        "1.15.0",
    )
    names = [d["metadata"]["name"] for d in operator_chart.crd_documents()]
    assert names == [
        "flinkbluegreendeployments.flink.apache.org",
        "flinkdeployments.flink.apache.org",
        "flinksessionjobs.flink.apache.org",
        "flinkstatesnapshots.flink.apache.org",
    ]
