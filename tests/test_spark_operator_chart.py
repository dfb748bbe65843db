"""The spark-operator's plain objects against the pinned chart: its own helm-unittest suites and values.yaml.

``tests/spark_operator_chart_tests`` holds ``charts/spark-operator-chart/tests/{controller,spark}``
of kubeflow/spark-operator at tag v2.5.2, unchanged: the suites of every template flow-platform
renders. Each runs against ``flow_platform.openflow.spark_operator_chart.render`` with the suite's
release, ``set`` values and capabilities, through the helm-unittest runner of
``tests/helm_unittest.py``.
"""

from pathlib import Path
from typing import Any

import pytest
from flow_platform.openflow import spark_operator_chart as chart
from helm_unittest import cases, run_case

SUITES = Path(__file__).parent / "spark_operator_chart_tests"
CASES = cases(SUITES)
WEBHOOK_OFF = {"webhook": {"enable": False}}
"""The suites run with the chart's defaults; the webhook's templates are not among those rendered
and do not change the controller's or the job namespaces' objects."""


def test_every_suite_of_the_rendered_templates_runs() -> None:
    assert len(CASES) == 103
    templates = {t for p in CASES for t in p.values[0]["templates"]}
    assert templates == set(chart.render(WEBHOOK_OFF, "spark-operator"))


def _render(
    values: dict[str, Any], release: dict[str, Any], capabilities: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    kube = (int(capabilities.get("majorVersion", 1)), int(capabilities.get("minorVersion", 32)))
    return chart.render(values, release["namespace"], release["name"], kube)


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_chart_unit_test(suite: dict[str, Any], case: dict[str, Any]) -> None:
    run_case(suite, case, _render, chart.unknown_keys, WEBHOOK_OFF)
