"""The eventflow system as the env stacks deploy it, and a clear error for every key of its block."""

from collections.abc import Callable
from typing import Any

import pytest
from conftest import ROOT, Stack, _rendered
from flow_platform.eventflow import discovery_service_names, services_needed
from flow_platform_stacks.config.monitoring import nfr_namespaces, nfr_systems
from flow_platform_stacks.loader import check_texts
from flow_platform_stacks.systems import REGISTRY
from flow_platform_stacks.systems.eventflow import SYSTEM
from flow_platform_stacks.tooling.harness import read_stack_file
from test_config_errors import Config, _delete, _rename, _set

NS = {"dev": "eventflow-dev", "prd": "eventflow-prd"}


def test_the_system_is_registered_and_declares_nfr_monitoring() -> None:
    assert SYSTEM in REGISTRY
    # the openflow NFR rules and `flow-platform nfr` cover every system that says so (#17)
    assert SYSTEM.nfr_monitoring is True
    assert "eventflow" in nfr_systems()
    for env in ("dev", "prd"):
        texts, secrets = read_stack_file(ROOT / f"Pulumi.{env}.yaml", ROOT / "Pulumi.yaml")
        assert NS[env] in nfr_namespaces(check_texts(env, texts, secrets))


@pytest.mark.parametrize("env", ["dev", "prd"])
def test_the_env_stack_runs_the_nodes_in_their_own_guarded_namespace(env: str) -> None:
    stack = _rendered(env)
    namespace = stack.one("Namespace", NS[env])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    sts = stack.one("StatefulSet", "ef-orders", NS[env])
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    names = {o["metadata"]["name"] for o in stack.objects("StatefulSet", NS[env])}
    assert names == {"ef-orders", "clustermonitor"}
    [quota] = stack.objects("ResourceQuota", NS[env])
    assert int(quota["spec"]["hard"]["services"]) >= services_needed(sts["spec"]["replicas"], monitor=True)
    cluster_rbac = [o for o in stack.objects() if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    assert not [o for o in cluster_rbac if "eventflow" in repr(o) or "ef-orders" in repr(o)]
    policies = {o["metadata"]["name"] for o in stack.objects("NetworkPolicy", NS[env])}
    assert {"ef-orders-allow-members", "ef-orders-allow-api-server", "ef-orders-allow-dns"} <= policies
    api = stack.one("NetworkPolicy", "ef-orders-allow-api-server", NS[env])
    cidrs = {"dev": ["10.10.0.0/16"], "prd": ["10.40.0.0/16"]}[env]
    assert api["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": c}} for c in cidrs]


def test_prd_spreads_nodes_across_zones_and_pulls_through_the_mirror() -> None:
    prd, dev = _rendered("prd"), _rendered("dev")
    pod = prd.one("StatefulSet", "ef-orders", NS["prd"])["spec"]["template"]["spec"]
    assert "topology.kubernetes.io/zone" in [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    dev_pod = dev.one("StatefulSet", "ef-orders", NS["dev"])["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in dev_pod
    [container] = pod["containers"]
    assert ".dkr.ecr.us-west-2.amazonaws.com/" in container["image"], container["image"]
    assert container["image"].endswith(":1.0.0")
    # the monitor is reached over HTTPS through the cluster's ingress controller, never a NodePort
    ingress = prd.one("Ingress", "clustermonitor", NS["prd"])
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_outputs_name_the_discovery_services(env_stack: Stack) -> None:
    outputs = env_stack.stack_outputs
    assert set(outputs["eventflow"]) == {
        "namespace",
        "statefulSet",
        "serviceAccount",
        "discoveryServices",
        "monitorUrl",
    }
    if outputs["eventflow"]["namespace"]:
        namespace = outputs["eventflow"]["namespace"]
        sts = env_stack.one("StatefulSet", "ef-orders", namespace)
        monitor = bool(
            [
                o
                for o in env_stack.objects("StatefulSet", namespace)
                if o["metadata"]["name"] == "clustermonitor"
            ]
        )
        assert outputs["eventflow"]["discoveryServices"] == discovery_service_names(
            "ef-orders", namespace, sts["spec"]["replicas"], monitor
        )


SECRET = ["flow-platform:eventflow"]
CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "unknown key",
        "dev",
        _rename("eventflow.replicas", "replica"),
        ["flow-platform:eventflow.replica", "did you mean 'replicas'?"],
    ),
    (
        "app name with capitals",
        "dev",
        _set("eventflow.appName", "EfOrders"),
        ["flow-platform:eventflow.appName", "not an application name"],
    ),
    (
        "app name too long for a discovery Service",
        "prd",
        _set("eventflow.appName", "ef-orders-" + "x" * 20),
        ["flow-platform:eventflow.appName", "at most 63"],
    ),
    (
        "image not pinned",
        "dev",
        _set("eventflow.image.tag", "latest"),
        ["flow-platform:eventflow.image.tag", "'latest' is not a version"],
    ),
    (
        "replicas zero",
        "dev",
        _set("eventflow.replicas", 0),
        ["flow-platform:eventflow.replicas = 0", "greater than or equal to 1"],
    ),
    (
        "replicas absurd",
        "dev",
        _set("eventflow.replicas", 500),
        ["flow-platform:eventflow.replicas = 500", "less than or equal to 50"],
    ),
    ("node uid root", "dev", _set("eventflow.nodeUid", 0), ["flow-platform:eventflow.nodeUid = 0"]),
    (
        "cpu negative",
        "dev",
        _set("eventflow.cpu", "-1"),
        ["flow-platform:eventflow.cpu", "CPU must be greater than 0"],
    ),
    (
        "cpu limit below request",
        "dev",
        _set("eventflow.cpuLimit", "100m"),
        ["flow-platform:eventflow.cpuLimit", "below the request cpu"],
    ),
    (
        "memory without unit",
        "dev",
        _set("eventflow.memory", "512"),
        ["flow-platform:eventflow.memory = '512'", "add a unit"],
    ),
    (
        "shared memory not a quantity",
        "dev",
        _set("eventflow.sharedMemory", "1Gx"),
        ["flow-platform:eventflow.sharedMemory = '1Gx'", "Kubernetes quantity"],
    ),
    (
        "memory + shared memory above the container max",
        "dev",
        _set("eventflow.sharedMemory", "64Gi"),
        ["flow-platform:eventflow.memory", "System V shared memory counts against"],
    ),
    ("node storage", "dev", _set("eventflow.nodeStorage", "0"), ["flow-platform:eventflow.nodeStorage"]),
    (
        "admin missing",
        "dev",
        _delete("eventflow.admin"),
        ["flow-platform:eventflow.admin", "required key is missing"],
    ),
    (
        "admin user with a colon",
        "dev",
        _set("eventflow.admin.username", "ef:admin"),
        ["flow-platform:eventflow.admin.username", "colon"],
    ),
    (
        "configuration file name",
        "dev",
        _set("eventflow.configuration", {"../node.conf": "x"}),
        ["flow-platform:eventflow.configuration.../node.conf", "not a file name"],
    ),
    (
        "node deploy not a configuration file",
        "dev",
        _set("eventflow.nodeDeploy", "other.conf"),
        [
            "flow-platform:eventflow.nodeDeploy",
            "'other.conf' is not a file of configuration (files: node.conf)",
        ],
    ),
    (
        "resources file name",
        "dev",
        _set("eventflow.resources", {"a b": "x"}),
        ["flow-platform:eventflow.resources", "not a file name"],
    ),
    (
        "health credentials not a boolean",
        "dev",
        _set("eventflow.healthCredentials", "yes"),
        ["flow-platform:eventflow.healthCredentials = 'yes'"],
    ),
    (
        "startup too short",
        "dev",
        _set("eventflow.startupSeconds", 5),
        ["flow-platform:eventflow.startupSeconds = 5", "greater than or equal to 30"],
    ),
    (
        "pinned range empty",
        "dev",
        _set("eventflow.nodePorts", {"start": 30100, "end": 30000}),
        ["flow-platform:eventflow.nodePorts.end", "below start (30100)"],
    ),
    (
        "pinned range port",
        "dev",
        _set("eventflow.nodePorts", {"start": 0, "end": 30000}),
        ["flow-platform:eventflow.nodePorts.start = 0"],
    ),
    (
        "client namespace",
        "dev",
        _set("eventflow.clients", [{"namespace": "Trading_Dev"}]),
        ["flow-platform:eventflow.clients[0].namespace = 'Trading_Dev'"],
    ),
    (
        "client labels",
        "dev",
        _set("eventflow.clients", [{"namespace": "trading-dev", "podLabels": {"app": "a b"}}]),
        ["flow-platform:eventflow.clients[0].podLabels.app", "not a label value"],
    ),
    (
        "client port",
        "dev",
        _set("eventflow.clientPorts", [8008, 70000]),
        ["flow-platform:eventflow.clientPorts[1]", "not between 1 and 65535"],
    ),
    (
        "monitor without image",
        "dev",
        _delete("eventflow.monitor.image"),
        ["flow-platform:eventflow.monitor.image", "required key is missing"],
    ),
    (
        "monitor host",
        "prd",
        _set("eventflow.monitor.ingressHost", "Not A Host"),
        ["flow-platform:eventflow.monitor.ingressHost"],
    ),
    (
        "monitor TLS without a host",
        "dev",
        _set("eventflow.monitor.tlsSecret", "monitor-tls"),
        ["flow-platform:eventflow.monitor.tlsSecret", "only applies with ingressHost"],
    ),
    (
        "monitor memory",
        "dev",
        _set("eventflow.monitor.memory", "1Gx"),
        ["flow-platform:eventflow.monitor.memory = '1Gx'"],
    ),
    (
        "zone spread not a boolean",
        "dev",
        _set("eventflow.zoneSpread", "yes"),
        ["flow-platform:eventflow.zoneSpread = 'yes'"],
    ),
    (
        "quota without room for discovery Services",
        "prd",
        _set("eventflow.quota.services", 3),
        ["flow-platform:eventflow.quota.services: 3 is below the 6 Services", "discovery Service per node"],
    ),
    (
        "quota services missing",
        "dev",
        _delete("eventflow.quota.services"),
        ["flow-platform:eventflow.quota.services", "required key is missing"],
    ),
    ("nodes above the quota", "prd", _set("eventflow.replicas", 20), ["flow-platform:eventflow.quota"]),
]


@pytest.mark.parametrize(("title", "env", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_eventflow_key_has_a_clear_error(
    bad_config: Any, title: str, env: str, mutate: Callable[[Config], None], expected: list[str]
) -> None:
    result = bad_config(env, mutate)
    assert result.message.startswith(f"invalid configuration for stack '{env}'")
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == []


def test_a_bad_admin_password_is_refused_without_echoing_it(bad_config: Any) -> None:
    result = bad_config("dev", _set("eventflow.admin.password", "pw with spaces"), secret_keys=SECRET)
    assert "flow-platform:eventflow.admin.password" in result.message
    assert "pw with spaces" not in result.message
    short = bad_config("dev", _set("eventflow.admin.password", "short"), secret_keys=SECRET)
    assert "at least 12 characters" in short.message and "short'" not in short.message
    keystore = bad_config("dev", _set("eventflow.keystorePassword", "has space"), secret_keys=SECRET)
    assert "flow-platform:eventflow.keystorePassword" in keystore.message


def test_a_disabled_eventflow_needs_nothing_else(bad_config: Any) -> None:
    from conftest import raw_stack_yaml, run_config

    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:eventflow"] = {"enabled": False}
    registrations = run_config("dev", config)
    assert not [r for r in registrations if "eventflow" in r.name]
