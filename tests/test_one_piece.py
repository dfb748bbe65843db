"""Repeats merged into one piece each (#11): the per-mode field rule, HTTPS ingress annotations and
HyperFlow's pod shape; each piece keeps the behaviour every user of it had."""

from typing import Any, cast

import pytest
import yaml
from component_args import MINIMAL
from flow_platform.eventflow.eventflow_cluster import monitor_ingress_annotations
from flow_platform.flink import FlinkCluster
from flow_platform.flink.flink_cluster import deployment_spec
from flow_platform.hyperflow import HYPERFLOW_UID
from flow_platform.k8s.ingress import CLUSTER_ISSUER, FORCE_SSL_REDIRECT, https_ingress_annotations
from flow_platform.partek.flow_headnode import ingress_annotations
from flow_platform.validation import mode_field_problem
from flow_platform_stacks.errors import KeyProblem
from flow_platform_stacks.systems.hyperflow.config import StorageConfig
from flow_platform_stacks.systems.partek.config import LicenseConfig
from pydantic import ValidationError

FIELDS = {"a": ("x", "y"), "b": ("z", "y"), "c": ()}


@pytest.mark.parametrize(
    ("mode", "present", "expected"),
    [
        ("a", {"x", "y"}, None),
        ("a", {"x"}, ("y", "required when mode is 'a'")),
        ("a", {"x", "y", "z"}, ("z", "only applies to mode 'b', not 'a'")),
        ("c", {"y"}, ("y", "only applies to mode 'a', not 'c'")),
        ("c", set(), None),
    ],
)
def test_the_per_mode_rule(mode: str, present: set[str], expected: tuple[str, str] | None) -> None:
    assert mode_field_problem(mode, FIELDS, present.__contains__) == expected


@pytest.mark.parametrize(
    ("model", "data", "key", "message"),
    [
        (
            LicenseConfig,
            {"mode": "external", "server": "@lic", "cidrs": ["10.0.0.0/24"], "storageClass": "gp3"},
            "storageClass",
            "only applies to mode 'flexlm', not 'external'",
        ),
        (LicenseConfig, {"mode": "external", "server": "@lic"}, "cidrs", "required when mode is 'external'"),
        (
            StorageConfig,
            {"mode": "efs", "nodeCidrs": ["10.0.0.0/16"]},
            "nodeCidrs",
            "only applies to mode 'in-cluster', not 'efs'",
        ),
        (
            StorageConfig,
            {"mode": "in-cluster", "storageClass": "gp3"},
            "nodeCidrs",
            "required when mode is 'in-cluster'",
        ),
    ],
)
def test_partek_license_and_hyperflow_storage_share_the_rule(
    model: Any, data: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        model.model_validate(data)
    problem = error.value.errors()[0]["ctx"]["error"]
    assert isinstance(problem, KeyProblem)
    assert (tuple(problem.subpath), problem.message) == ((key,), message)


def test_every_https_ingress_redirects_http_and_names_the_issuer_only_when_given() -> None:
    for annotations in (
        ingress_annotations("letsencrypt"),
        monitor_ingress_annotations("letsencrypt"),
        https_ingress_annotations("letsencrypt", ssl_redirect=False),
    ):
        assert annotations[FORCE_SSL_REDIRECT] == "true" and annotations[CLUSTER_ISSUER] == "letsencrypt"
    for annotations in (ingress_annotations(None), monitor_ingress_annotations(None)):
        assert CLUSTER_ISSUER not in annotations
    assert ingress_annotations(None)["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"
    args = {**MINIMAL[FlinkCluster], "ingress_host": "flink.example.com", "cluster_issuer": "letsencrypt"}
    spec = deployment_spec(cast(Any, args), "flink-data")
    assert spec["ingress"]["annotations"] == https_ingress_annotations("letsencrypt", ssl_redirect=False)


def test_every_hyperflow_pod_has_the_one_shape(stack: Any) -> None:
    """Engine, task-pod template and one-shot jobs: HyperFlow's UID, /work_dir and a bounded /tmp;
    only the engine, which creates Jobs, gets a token."""
    dev = stack("dev")
    pods: dict[str, dict[str, Any]] = {}
    for obj in dev.objects(namespace="hyperflow-dev"):
        spec = obj.get("spec", {})
        if obj["kind"] == "Deployment" or obj["kind"] == "Job":
            pods[obj["metadata"]["name"]] = spec["template"]["spec"]
        elif obj["kind"] == "CronJob":
            pods[obj["metadata"]["name"]] = spec["jobTemplate"]["spec"]["template"]["spec"]
        elif obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("hyperflow-job-template"):
            template = yaml.safe_load(obj["data"]["job-template.yaml"])
            pods["task template"] = template["spec"]["template"]["spec"]
    assert {"hyperflow-engine", "task template"} <= set(pods) and len(pods) >= 3, sorted(pods)
    for name, pod in pods.items():
        if name == "redis":
            continue
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert pod["securityContext"]["runAsUser"] == HYPERFLOW_UID, name
        assert volumes["work-dir"]["persistentVolumeClaim"]["claimName"] == "work-dir", name
        assert volumes["tmp"]["emptyDir"] == {"sizeLimit": "1Gi"}, name
        assert pod["enableServiceLinks"] is False, name
        assert pod["automountServiceAccountToken"] is (name == "hyperflow-engine"), name
        for container in pod["containers"]:
            assert {"/work_dir", "/tmp"} <= {m["mountPath"] for m in container["volumeMounts"]}, name
