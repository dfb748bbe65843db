"""The render benchmark's baselines register exactly what the program registers (#20).

``benchmarks/bench_speed.py`` reports flow-platform's evaluation time as a ratio to replays of the
same resources through the bare SDK. A ratio means something only if the replay does the same work:
same resources, same inputs as the engine receives them, same parents, providers and options.
"""

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, stack_config
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, Registration, run_program


def _bench_speed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_speed", ROOT / "benchmarks" / "bench_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_speed", module)
    spec.loader.exec_module(module)
    return module


def _shape(registrations: list[Registration]) -> list[tuple[Any, ...]]:
    # the SDK registers asynchronously: the order may differ, the set of resources may not
    return sorted(
        (
            (r.urn, r.type, r.custom, r.parent, r.provider, r.inputs, bool(r.options.get("protect")))
            for r in registrations
        ),
        key=lambda shape: shape[0],
    )


@pytest.mark.fresh_evaluation
@pytest.mark.parametrize("env", ["dev", "prd"])
def test_both_replays_register_what_the_program_registered(env: str) -> None:
    bench = _bench_speed()
    config, secrets = stack_config(env)
    program = RecordingMonitor(FlowMocks())
    run_program(env, config, secrets, monitor=program, project_dir=ROOT)
    registrations = list(program.registrations)
    for replay in (bench.replay_program(registrations, typed=True), bench.replay_program(registrations)):
        replayed = RecordingMonitor(FlowMocks())
        run_program(env, {}, [], program=replay, monitor=replayed)
        assert _shape(list(replayed.registrations)) == _shape(registrations)


def test_the_typed_replay_uses_the_sdks_classes_for_every_custom_resource() -> None:
    bench = _bench_speed()
    assert (
        bench._typed_class("kubernetes:apps/v1:Deployment").__module__
        == "pulumi_kubernetes.apps.v1.Deployment"
    )
    assert bench._typed_class("aws:ecr/repository:Repository").__name__ == "Repository"
    # custom resources (no class of their own) go through apiextensions.CustomResource
    assert bench._typed_class("kubernetes:flink.apache.org/v1beta1:FlinkDeployment") is None
    assert bench._snake("apiVersion") == "api_version" and bench._snake("stringData") == "string_data"
