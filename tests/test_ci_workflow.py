"""The repository's own CI: `.ci/run` on every push and pull request, with the integration tier's
binaries provided where the sibling directory of the team's machines does not exist (a runner)."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return loaded


def test_ci_runs_on_every_push_and_pull_request() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    assert set(triggers) == {"push", "pull_request"}
    for event in ("push", "pull_request"):
        assert not triggers[event], f"{event}: no branch or path filter (every push, every pull request)"


def test_ci_runs_the_ci_script_after_providing_the_apiserver() -> None:
    (job,) = _workflow()["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]
    assert runs[-1].strip() == ".ci/run"
    envtest = next(i for i, run in enumerate(runs) if "setup-envtest" in run)
    assert "KUBEBUILDER_ASSETS=" in runs[envtest] and "GITHUB_ENV" in runs[envtest]
    assert "use 1.32.x" in runs[envtest], "the minor version of the team's kube-apiserver"
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/setup-python") for u in uses)
    python = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"


def test_ci_script_uses_given_envtest_binaries_and_requires_the_tier() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    given = script.index('[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]')
    shared = script.index("APISERVER_GZ=")
    assert given < shared, "KUBEBUILDER_ASSETS, when it names the binaries, is used as it is"
    assert "FLOW_PLATFORM_REQUIRE_APISERVER=1" in script
    assert script.rstrip().endswith(".venv/bin/python -m pytest")
