"""The pack starts the way ``pulumi preview --policy-pack policy`` starts it: from its own virtualenv.

``PulumiPolicy.yaml`` names ``virtualenv: venv``; ``pulumi install`` in ``policy/`` (or the
documented ``python -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt``)
creates it from ``policy/requirements.txt`` alone. The CLI then runs the pack through the Python
language host's ``RunPlugin`` (pulumi/pulumi ``sdk/python/cmd/pulumi-language-python/main.go``, kind
``analyzer``): ``<venv>/bin/python -u -m pulumi.policy <engine address> <pack dir>`` in the pack's
directory with ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN``/``PULUMI_CONFIG`` set, and
reads the port from the first line of its stdout.

The virtualenv is built once per requirements file into ``.cache/`` (PyPI or pip's cache; CI has
PyPI) with no system site packages, so the pack proves it needs nothing beyond its requirements.
"""

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, _rendered
from flow_platform_stacks.tooling.policy_check import pack_command, pack_python, running_pack

PACK = ROOT / "policy"


@pytest.fixture(scope="session")
def pack_venv() -> Path:
    requirements = (PACK / "requirements.txt").read_bytes()
    venv = ROOT / ".cache" / f"policy-venv-{hashlib.sha256(requirements).hexdigest()[:12]}"
    marker = venv / ".complete"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(PACK / "requirements.txt")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (
            f"pip install -r policy/requirements.txt failed:\n{result.stderr[-3000:]}"
        )
        marker.write_text("ok\n")
    return venv


@pytest.fixture
def pack_copy(tmp_path: Path, pack_venv: Path) -> Iterator[Path]:
    """A fresh copy of the pack with its own ``venv`` (a link to the one built above)."""
    pack = tmp_path / "policy"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (pack / "venv").symlink_to(pack_venv, target_is_directory=True)
    yield pack


def test_the_pack_declares_its_virtualenv_and_requirements() -> None:
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert pack_python(PACK) == PACK / "venv" / "bin" / "python"
    requirements = (PACK / "requirements.txt").read_text().split()
    assert {r.split(">")[0].split("=")[0] for r in requirements} == {"pulumi", "pulumi-policy"}


def test_the_venv_holds_only_the_packs_requirements(pack_venv: Path) -> None:
    python = str(pack_venv / "bin" / "python")
    check = "import pulumi_policy, pulumi; import sys; print(sys.prefix)"
    out = subprocess.run([python, "-c", check], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out) == pack_venv
    for foreign in ("flow_platform", "flow_platform_stacks", "pulumi_kubernetes"):
        result = subprocess.run([python, "-c", f"import {foreign}"], capture_output=True, text=True)
        assert result.returncode != 0, f"{foreign} must not be needed (nor visible) in the pack's venv"


def test_the_pack_starts_from_its_own_venv_as_the_cli_does(pack_copy: Path) -> None:
    venv_python = pack_copy / "venv" / "bin" / "python"
    with running_pack(pack_copy) as analyzer:
        assert analyzer.process is not None
        assert analyzer.process.command == [
            str(venv_python),
            "-u",
            "-m",
            "pulumi.policy",
            "127.0.0.1:0",
            str(pack_copy),
        ]
        assert analyzer.process.command == pack_command(pack_copy, venv_python)
        assert analyzer.info.name == "flow-platform-guardrails"
        analyzer.configure(json.loads((pack_copy / "config" / "prd.json").read_text()))
        diagnostics = analyzer.analyze(_rendered("prd").registrations)
    assert [d for d in diagnostics if d.level == "mandatory"] == []
    assert diagnostics, "the prd render has its advisory findings (read-only root of the Flink pods)"


def test_the_documented_commands_create_that_venv() -> None:
    command = "python -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt"
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "policy.yml").read_text())
    runs = {job: [step.get("run", "") for step in spec["steps"]] for job, spec in workflow["jobs"].items()}
    for job in ("offline-check", "preview"):
        assert any(command in run for run in runs[job]), job
        venv_step = next(i for i, run in enumerate(runs[job]) if command in run)
        uses = [step.get("uses", "") + step.get("run", "") for step in workflow["jobs"][job]["steps"]]
        started = next(i for i, u in enumerate(uses) if "flow-platform check" in u or "pulumi/actions" in u)
        assert venv_step < started, f"{job}: the venv exists before the pack starts"
    readme = (ROOT / "README.md").read_text()
    assert command in readme and "pulumi install" in readme
