"""One installer per cluster, one mechanism (flow_platform_stacks.operators) for every operator:
Flink's today, the Spark operator's next. Other stacks are read through their config models."""

from pathlib import Path

import pytest
from conftest import ROOT
from flow_platform_stacks import operators
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.operators import OperatorInstall, plan


def _install(owns: bool, cluster: str = "nonprod", operator: str = "spark") -> OperatorInstall:
    return OperatorInstall(
        operator=operator,
        title="Spark",
        cluster=cluster,
        owns_crds=owns,
        owner_key=("openflow", "operator", "installCrds"),
        watched=("openflow-dev",),
    )


@pytest.fixture
def peers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[str, str, bool]] | str]:
    """The other stacks' installs, as the mechanism reads them, set by the test."""
    table: dict[str, list[tuple[str, str, bool]] | str] = {}
    monkeypatch.setattr(operators, "_installs_of", lambda path: table.get(path.name.split(".")[1], []))
    return table


def test_any_operator_watches_what_its_stack_declares(peers: dict[str, object]) -> None:
    peers["tst"] = [("spark", "nonprod", True)]
    assert plan(ROOT, "dev", [_install(False)]) == {"spark": ("openflow-dev",)}


def test_two_owners_on_a_cluster_name_the_stacks_and_the_key(peers: dict[str, object]) -> None:
    peers["tst"] = [("spark", "nonprod", True)]
    with pytest.raises(ConfigError) as error:
        plan(ROOT, "dev", [_install(True)])
    message = str(error.value)
    assert "stacks dev, tst all manage the Spark CRDs of cluster 'nonprod'" in message
    assert "flow-platform:openflow.operator.installCrds" in message and "set installCrds: true" in message


def test_no_owner_is_an_error_and_other_operators_or_clusters_do_not_count(peers: dict[str, object]) -> None:
    peers["tst"] = [("flink", "nonprod", True), ("spark", "prod", True)]
    with pytest.raises(ConfigError, match="no stack manages the Spark CRDs of cluster 'nonprod'"):
        plan(ROOT, "dev", [_install(False)])


def test_an_unreadable_stack_is_warned_about_per_plan_and_left_out(
    peers: dict[str, object], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    peers["tst"] = "not valid YAML"
    peers["uat"] = [("spark", "nonprod", True)]
    assert plan(ROOT, "dev", [_install(False)]) == {"spark": ("openflow-dev",)}
    warned = caplog.text + capsys.readouterr().err  # pulumi.log: the engine's log in a run, else stderr
    assert "Pulumi.tst.yaml is ignored for the Spark operator plan: not valid YAML" in warned


def test_no_operator_no_reading(peers: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operators, "_peers", lambda *a: pytest.fail("read the other stacks"))
    assert plan(ROOT, "dev", []) == {}


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_the_committed_stacks_read_each_other_through_their_models(env: str) -> None:
    """Secrets, defaults and every system's block as the program validates them: none is ignored."""
    found = operators._installs_of(ROOT / f"Pulumi.{env}.yaml")
    assert not isinstance(found, str), found
    cluster = {"dev": "nonprod", "tst": "nonprod", "uat": "uat", "prd": "prd"}[env]
    # uat runs no spark-operator; tst and prd own their clusters' spark-operator CRDs, dev reads tst's
    spark = [] if env == "uat" else [("spark-operator", cluster, env != "dev")]
    assert found == [("flink", cluster, env != "dev"), *spark]


def test_stack_files_are_validated_once_per_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "Pulumi.tst.yaml"
    copy.write_text((ROOT / "Pulumi.tst.yaml").read_text())
    first = operators._installs_of(copy)
    monkeypatch.setitem(operators._PEERS, copy.read_text(), "cached")
    assert operators._installs_of(copy) == "cached" and first != "cached"
