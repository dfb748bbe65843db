"""The operator's plain objects against the pinned chart: its own helm-unittest suites and values.yaml.

``tests/flink_chart_tests`` is ``helm/flink-kubernetes-operator/tests`` of
apache/flink-kubernetes-operator at tag release-1.15.0, unchanged. Each suite runs against
``flow_platform.flink.operator_chart.render`` with the suite's release and ``set`` values, through
the helm-unittest runner of ``tests/helm_unittest.py``.
"""

from pathlib import Path
from typing import Any

import pytest
from flow_platform.flink import operator_chart
from helm_unittest import cases, run_case

SUITES = Path(__file__).parent / "flink_chart_tests"
CASES = cases(SUITES)


def _render(
    values: dict[str, Any], release: dict[str, Any], capabilities: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    return operator_chart.render(values, release["namespace"], release["name"])


def _unknown(values: dict[str, Any]) -> list[str]:
    """Top-level keys the chart lacks (the renderer refuses them; Helm ignores them). Nested ones
    stay: the templates read keys values.yaml only has commented out (``webhook.mutator.create``)."""
    return sorted(set(values) - set(operator_chart.default_values()))


def test_every_suite_of_the_chart_runs() -> None:
    assert len(CASES) == 60
    templates = {t for p in CASES for t in p.values[0]["templates"]}
    rendered = set(operator_chart.render({}, "flink-operator"))
    assert templates <= rendered


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_chart_unit_test(suite: dict[str, Any], case: dict[str, Any]) -> None:
    run_case(suite, case, _render, _unknown)


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
