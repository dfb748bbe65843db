"""EventFlowCluster used directly: the objects it renders, checked against the vendor sample's facts.

The sample is spotfiresoftware/tibco-streaming-samples (commit 23a4b93), ``docker/ef-kubernetes``;
the facts each test relies on are named where they are used.
"""

import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from flow_platform.eventflow import EventFlowCluster
from flow_platform.eventflow.eventflow_cluster import MEMBER_LABEL
from flow_platform.eventflow.nodes import (
    discovery_name_problem,
    discovery_service_name,
    discovery_service_names,
    node_memory_limit,
    node_name,
    services_needed,
)
from flow_platform.eventflow.scripts import (
    PROBE_SCRIPT,
    START_MONITOR_SCRIPT,
    START_NODE_SCRIPT,
)
from flow_platform.k8s import Quantity
from flow_platform.validation import ArgsError
from flow_platform_stacks.tooling.harness import Registration, run_program
from flow_platform_stacks.tooling.render import kubernetes_objects

K8S_VERSION = "1.32.0"
BASE: dict[str, Any] = {
    "namespace": "eventflow-dev",
    "env": "dev",
    "app_name": "ef-orders",
    "image": "registry.example.com/streaming/ef-orders:1.0.0",
    "admin_username": "efadmin",
    "admin_password": "example-password-0123456789",
    "keystore_password": "keystore-password-0123",
    "configuration": {"node.conf": 'name = "ef-orders"\n'},
    "node_deploy": "node.conf",
    "resources": {"logback.xml": "<configuration/>\n"},
    "api_server_cidrs": ["10.0.0.1/32"],
}
MONITOR = {"image": "registry.example.com/streaming/sbrt-base:11.1.0", "ingress_host": "ef.example.com"}


def _run(args: dict[str, Any]) -> list[Registration]:
    def program() -> None:
        EventFlowCluster("orders", args)  # type: ignore[arg-type]

    return run_program("lib", {}, [], program=program)


def _objects(args: dict[str, Any]) -> list[dict[str, Any]]:
    return kubernetes_objects(_run(args))


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [obj] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


@pytest.fixture(scope="module")
def full() -> list[dict[str, Any]]:
    return _objects(
        {
            **BASE,
            "monitor": MONITOR,
            "clients": [{"namespace": "trading-dev", "pod_labels": {"app": "gateway"}}],
            "zone_spread": True,
        }
    )


def test_every_object_is_strictly_valid_kubernetes(full: list[dict[str, Any]]) -> None:
    for obj in full:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    kinds = sorted({o["kind"] for o in full})
    assert kinds == [
        "ConfigMap",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    ]
    assert not [o for o in full if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_the_statefulset_is_the_samples_shape(full: list[dict[str, Any]]) -> None:
    sts = _one(full, "StatefulSet", "ef-orders")["spec"]
    assert sts["podManagementPolicy"] == "Parallel"
    assert sts["updateStrategy"] == {"type": "RollingUpdate"}
    assert sts["serviceName"] == "ef-orders" and sts["replicas"] == 3
    [container] = sts["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    # the sample: STREAMING_NODENAME=$(POD_NAME).$(POD_NAMESPACE).$(APPNAME), from the downward API
    assert env["STREAMING_NODENAME"]["value"] == "$(POD_NAME).$(POD_NAMESPACE).$(APPNAME)"
    assert env["APPNAME"]["value"] == "ef-orders"
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["STREAMING_NODEDEPLOY"]["value"] == "/var/opt/tibco/streambase/configuration/node.conf"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in sts["template"]["spec"]["volumes"]}
    for path, config_map in (
        ("/var/opt/tibco/streambase/configuration", "ef-orders-configuration"),
        ("/var/opt/tibco/streambase/resources", "ef-orders-resources"),
    ):
        assert volumes[mounts[path]["name"]]["configMap"]["name"] == config_map
    governing = _one(full, "Service", "ef-orders")["spec"]
    assert governing["clusterIP"] == "None" and governing["publishNotReadyAddresses"] is True
    assert governing["selector"] == sts["selector"]["matchLabels"]


def test_no_credential_is_a_literal_in_any_pod_spec(full: list[dict[str, Any]]) -> None:
    text = repr([o for o in full if o["kind"] != "Secret"])
    for secret in (BASE["admin_password"], BASE["keystore_password"], "tibco:tibco", "--password=tibco"):
        assert secret not in text
    secret = _one(full, "Secret", "ef-orders-admin")
    assert sorted(secret["stringData"]) == ["keystore-password", "password", "username"]


def test_probes_use_the_healthcheck_with_a_startup_probe_instead_of_a_fixed_delay(
    full: list[dict[str, Any]],
) -> None:
    [container] = _one(full, "StatefulSet", "ef-orders")["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthcheck/v1/status", "port": "http"}
        assert "initialDelaySeconds" not in container[probe]
    assert {"name": "http", "containerPort": 8008, "protocol": "TCP"} in container["ports"]
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 240


def test_a_health_check_with_credentials_is_an_exec_probe_reading_the_mounted_secret() -> None:
    objects = _objects({**BASE, "health_credentials": True})
    [container] = _one(objects, "StatefulSet", "ef-orders")["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == ["/bin/sh", "/opt/flow-platform/eventflow/healthcheck"]
        assert "httpGet" not in container[probe]
    assert "Authorization" not in repr(objects)


def test_restricted_numeric_uid_read_only_root_and_writable_empty_dirs(full: list[dict[str, Any]]) -> None:
    for name in ("ef-orders", "clustermonitor"):
        pod = _one(full, "StatefulSet", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["runAsNonRoot"]
        [container] = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        writable = {m["mountPath"] for m in container["volumeMounts"] if "emptyDir" in volumes[m["name"]]}
        assert writable == {"/var/opt/tibco/streambase/node", "/tmp", "/home/tibco", "/dev/shm"}
        assert volumes["shm"]["emptyDir"]["medium"] == "Memory"


def test_shared_memory_is_added_to_the_memory_limit_and_sizes_dev_shm() -> None:
    objects = _objects({**BASE, "memory": "3Gi", "shared_memory": "1Gi", "cpu": "2", "cpu_limit": "4"})
    pod = _one(objects, "StatefulSet", "ef-orders")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "4096Mi"},
        "limits": {"cpu": "4", "memory": "4096Mi"},
    }
    [shm] = [v for v in pod["volumes"] if v["name"] == "shm"]
    assert shm["emptyDir"]["sizeLimit"] == "1Gi"
    assert node_memory_limit("1500Mi", "524288Ki") == "2012Mi"
    assert Quantity.parse(node_memory_limit("1G", "1")) == Quantity.parse("1000000001")


def test_the_node_account_has_exactly_services_crud_and_read_only_pods(full: list[dict[str, Any]]) -> None:
    role = _one(full, "Role", "ef-orders-node")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["services"],
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    ]
    binding = _one(full, "RoleBinding", "ef-orders-node")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ef-orders-node", "namespace": "eventflow-dev"}
    ]
    pod = _one(full, "StatefulSet", "ef-orders")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "ef-orders-node"
    assert all(s["name"] != "default" for o in full for s in o.get("subjects", []))


def test_network_policies_members_api_server_dns_and_clients_only(full: list[dict[str, Any]]) -> None:
    policies = {o["metadata"]["name"]: o["spec"] for o in full if o["kind"] == "NetworkPolicy"}
    assert sorted(policies) == [
        "clustermonitor-allow-ingress-controller",
        "ef-orders-allow-api-server",
        "ef-orders-allow-clients",
        "ef-orders-allow-dns",
        "ef-orders-allow-members",
    ]
    members = policies["ef-orders-allow-members"]
    assert members["podSelector"] == {"matchLabels": {MEMBER_LABEL: "ef-orders"}}
    # discovery target ports change on each start: every TCP port, only between the app's pods
    assert members["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {MEMBER_LABEL: "ef-orders"}}}],
            "ports": [{"protocol": "TCP"}],
        }
    ]
    assert members["egress"][0]["ports"] == [{"protocol": "TCP"}]
    clients = policies["ef-orders-allow-clients"]
    assert clients["ingress"] == [
        {
            "from": [
                {
                    "podSelector": {"matchLabels": {"app": "gateway"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "trading-dev"}},
                }
            ],
            "ports": [{"port": 8008, "protocol": "TCP"}],
        }
    ]
    assert policies["ef-orders-allow-api-server"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
    # both pod kinds carry the member label, so the monitor reaches the nodes and back
    for name in ("ef-orders", "clustermonitor"):
        labels = _one(full, "StatefulSet", name)["spec"]["template"]["metadata"]["labels"]
        assert labels[MEMBER_LABEL] == "ef-orders"


def test_a_pinned_range_replaces_all_ports() -> None:
    objects = _objects({**BASE, "node_port_range_start": 30000, "node_port_range_end": 30100})
    members = _one(objects, "NetworkPolicy", "ef-orders-allow-members")["spec"]
    assert members["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 30000, "endPort": 30100},
        {"port": 8008, "protocol": "TCP"},
    ]


def test_the_monitor_is_cluster_ip_with_an_https_ingress_never_a_node_port(
    full: list[dict[str, Any]],
) -> None:
    service = _one(full, "Service", "clustermonitor")["spec"]
    assert service["type"] == "ClusterIP"
    assert service["ports"] == [{"name": "lvweb", "port": 11080, "targetPort": "lvweb", "protocol": "TCP"}]
    assert not [o for o in full if o["kind"] == "Service" and o["spec"].get("type") == "NodePort"]
    ingress = _one(full, "Ingress", "clustermonitor")
    assert ingress["spec"]["tls"] == [{"hosts": ["ef.example.com"], "secretName": "clustermonitor-tls"}]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


def test_disruption_budget_and_zone_spread(full: list[dict[str, Any]]) -> None:
    pdb = _one(full, "PodDisruptionBudget", "ef-orders")["spec"]
    assert pdb["maxUnavailable"] == 1
    pod = _one(full, "StatefulSet", "ef-orders")["spec"]["template"]["spec"]
    keys = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    assert "topology.kubernetes.io/zone" in keys
    plain = _one(_objects(BASE), "StatefulSet", "ef-orders")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in plain


def test_a_content_change_rolls_the_nodes() -> None:
    def annotations(args: dict[str, Any]) -> dict[str, str]:
        sts = _one(_objects(args), "StatefulSet", "ef-orders")
        return dict(sts["spec"]["template"]["metadata"]["annotations"])

    before = annotations(BASE)
    after = annotations({**BASE, "configuration": {"node.conf": 'name = "ef-orders-2"\n'}})
    assert before["flow-platform/checksum-configuration"] != after["flow-platform/checksum-configuration"]
    assert before["flow-platform/checksum-admin"] == after["flow-platform/checksum-admin"]


# ---- names ------------------------------------------------------------------------------------


def test_node_and_discovery_names_follow_the_sample() -> None:
    # the sample's index.md: ef-kubernetes-app-0 in default publishes efkubernetesapp0-default-efkubernetesapp
    name = node_name("ef-kubernetes-app-0", "default", "ef-kubernetes-app")
    assert name == "efkubernetesapp0.default.efkubernetesapp"
    assert discovery_service_name(name) == "efkubernetesapp0-default-efkubernetesapp"
    assert discovery_service_names("ef-kubernetes-app", "default", 3, monitor=True) == [
        "efkubernetesapp0-default-efkubernetesapp",
        "efkubernetesapp1-default-efkubernetesapp",
        "efkubernetesapp2-default-efkubernetesapp",
        "clustermonitor0-clustermonitor",
    ]
    assert services_needed(3, monitor=True) == 2 + 4


def test_a_discovery_name_over_63_characters_is_refused_before_anything_is_registered() -> None:
    app = "a" * 24
    # node 9: 24 + 1 digit + '-' + 'eventflowdev' (12) + '-' + 24 = 63; node 10 has one digit more
    assert discovery_name_problem(app, "eventflow-dev", 10) is None
    problem = discovery_name_problem(app, "eventflow-dev", 11)
    assert problem and "node 10" in problem and "64 characters" in problem
    with pytest.raises(ArgsError, match=r"args\['app_name'\].*at most 63"):
        _run({**BASE, "app_name": app, "replicas": 11})


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"node_deploy": "missing.conf"}, "node_deploy"),
        ({"node_port_range_start": 30000}, "node_port_range_start"),
        ({"node_port_range_start": 3000, "node_port_range_end": 2000}, "node_port_range_start"),
        ({"admin_password": "has space"}, "admin_password"),
        ({"admin_username": "a:b"}, "admin_username"),
        ({"configuration": {"../x": ""}}, "configuration"),
        ({"monitor": {"image": "sbrt-base:latest"}}, "monitor"),
        ({"client_ports": [70000]}, "client_ports"),
        ({"replicas": 0}, "replicas"),
        ({"cpu": "2", "cpu_limit": "1"}, "cpu_limit"),
    ],
)
def test_bad_args_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ArgsError, match=rf"args\['{key}'\]"):
        _run({**BASE, **change})


# ---- the scripts, run by a POSIX shell against a stand-in epadmin --------------------------------


def _stand_ins(tmp: Path) -> dict[str, str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    log = tmp / "calls"
    (bin_dir / "epadmin").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\ncase "$*" in *getadminport*) echo 41234 ;; esac\n'
    )
    (bin_dir / "ip").write_text("#!/bin/sh\necho 'default via 10.1.0.1 dev eth0'\n")
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "curl").write_text(
        f'#!/bin/sh\ncat > {tmp}/curl-config\nprintf "%s\\n" "$*" > {tmp}/curl-args\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    credentials = tmp / "credentials"
    credentials.mkdir()
    (credentials / "username").write_text("efadmin")
    (credentials / "password").write_text("s3cret-pw")
    (credentials / "keystore-password").write_text("ks-pw")
    runtime = tmp / "runtime"
    (runtime / "application").mkdir(parents=True)
    (runtime / "application" / "ef-orders-1.0.0.zip").write_text("")
    (tmp / "node" / "eforders0.eventflowdev.eforders").mkdir(parents=True)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FLOW_PLATFORM_CREDENTIALS_DIR": str(credentials),
        "FLOW_PLATFORM_NODE_DIR": str(tmp / "node"),
        "STREAMING_RUNTIME_HOME": str(runtime),
        "STREAMING_PRODUCT_HOME": "/opt/tibco/streambase",
        "POD_NAME": "ef-orders-0",
        "POD_NAMESPACE": "eventflow-dev",
        "POD_IP": "10.2.3.4",
    }


def test_start_node_installs_with_the_secrets_credentials_and_the_samples_node_name(tmp_path: Path) -> None:
    env = _stand_ins(tmp_path)
    env |= {
        "APPNAME": "ef-orders",
        "STREAMING_NODENAME": "ef-orders-0.eventflow-dev.ef-orders",
        "STREAMING_NODEDEPLOY": "/var/opt/tibco/streambase/configuration/node.conf",
    }
    script = tmp_path / "start-node"
    script.write_text(START_NODE_SCRIPT)
    subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=30)
    install, getport, start = (tmp_path / "calls").read_text().splitlines()
    assert install.startswith("--username=efadmin --password=s3cret-pw install node ")
    assert "--nodename=eforders0.eventflowdev.eforders" in install
    assert f"--nodedirectory={tmp_path / 'node'}" in install
    assert "--nodedeploy=/var/opt/tibco/streambase/configuration/node.conf" in install
    assert "--keystorepassword=ks-pw" in install
    assert (
        "--substitutions=POD_NAMESPACE=eventflow-dev,POD_NAME=ef-orders-0,DEFAULT_ROUTE=10.1.0.1" in install
    )
    assert "--application=" in install and install.endswith(
        ".zip --substitutions=" + install.split("--substitutions=")[1]
    )
    assert getport == f"getadminport node --installpath={tmp_path / 'node'}/eforders0.eventflowdev.eforders"
    assert start == "--adminport=41234 start node"
    # the previous run's node directory is removed (the sample's clean start)
    assert not (tmp_path / "node" / "eforders0.eventflowdev.eforders").exists()


def test_start_cluster_monitor_names_its_node_like_the_sample(tmp_path: Path) -> None:
    env = _stand_ins(tmp_path) | {"POD_NAME": "clustermonitor-0"}
    script = tmp_path / "start-cluster-monitor"
    script.write_text(START_MONITOR_SCRIPT)
    subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=30)
    install, _, start = (tmp_path / "calls").read_text().splitlines()
    assert "--nodename=clustermonitor0.clustermonitor" in install
    assert "--substitutions=NODE_NAME=clustermonitor0.clustermonitor" in install
    assert "--application=/opt/tibco/streambase/distrib/tibco/sb/applications/cluster-monitor.zip" in install
    assert install.startswith("--username=efadmin --password=s3cret-pw ")
    assert start == "--adminport=41234 --hostname=clustermonitor-0 start node"


def test_the_probe_hands_credentials_to_curl_on_stdin_never_on_its_command_line(tmp_path: Path) -> None:
    env = _stand_ins(tmp_path)
    script = tmp_path / "healthcheck"
    script.write_text(PROBE_SCRIPT)
    subprocess.run(["sh", str(script)], env=env, check=True, timeout=30)
    assert (tmp_path / "curl-config").read_text() == 'user = "efadmin:s3cret-pw"\n'
    args = (tmp_path / "curl-args").read_text()
    assert "s3cret-pw" not in args
    assert args.strip().endswith("http://10.2.3.4:8008/healthcheck/v1/status")
    subprocess.run(["sh", str(script)], env=env | {"POD_IP": "fd00::5"}, check=True, timeout=30)
    assert (
        (tmp_path / "curl-args").read_text().strip().endswith("http://[fd00::5]:8008/healthcheck/v1/status")
    )


def test_the_scripts_are_posix_sh() -> None:
    for text in (START_NODE_SCRIPT, START_MONITOR_SCRIPT, PROBE_SCRIPT):
        subprocess.run(["sh", "-n"], input=text.encode(), check=True)
    assert os.path.basename("/bin/sh")
