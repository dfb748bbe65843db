"""The fixture finds its binaries as envtest does, and CI cannot lose the tier to a skip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .apiserver import ASSETS_ENV, REQUIRE_ENV, BinariesMissing, find_binaries

ROOT = Path(__file__).resolve().parents[2]


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_kubebuilder_assets_wins_over_path_and_a_missing_binary_is_named(tmp_path: Path) -> None:
    assets, on_path = tmp_path / "assets", tmp_path / "bin"
    assets.mkdir()
    on_path.mkdir()
    for name in ("etcd", "kube-apiserver"):
        _executable(on_path / name)
    _executable(assets / "etcd")
    assert find_binaries({"PATH": str(on_path)}) == {
        "etcd": on_path / "etcd",
        "kube-apiserver": on_path / "kube-apiserver",
    }
    with pytest.raises(BinariesMissing, match=f"kube-apiserver not found in {ASSETS_ENV}={assets}"):
        find_binaries({ASSETS_ENV: str(assets), "PATH": str(on_path)})
    _executable(assets / "kube-apiserver")
    assert find_binaries({ASSETS_ENV: str(assets), "PATH": str(on_path)})["kube-apiserver"] == (
        assets / "kube-apiserver"
    )


def test_missing_binaries_skip_the_tier_unless_it_is_required(tmp_path: Path) -> None:
    test = "tests/integration/test_admission.py::test_a_deployment_violating_restricted_pod_security_fails"
    env = {**os.environ, ASSETS_ENV: str(tmp_path)}
    env.pop(REQUIRE_ENV, None)
    runs = {
        required: subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
            cwd=ROOT,
            env={**env, REQUIRE_ENV: "1"} if required else env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for required in (False, True)
    }
    (skipped, _), (failed, _) = (runs[False].communicate(timeout=120), runs[True].communicate(timeout=120))
    assert runs[False].returncode == 0 and "1 skipped" in skipped, skipped
    assert "no real API server: etcd and kube-apiserver not found" in skipped
    assert runs[True].returncode == 1 and "1 error" in failed, failed
    assert f"{REQUIRE_ENV}=1 but etcd and kube-apiserver not found" in failed
