"""Partek Flow as each env stack deploys it: ports, env, security, volumes, probes, ingress, policies."""

from typing import Any

import pytest
from conftest import ENVS, Stack, raw_stack_yaml, run_config
from test_partek_sizing import GOOD_LICENSE

PARTEK_NS = {"dev": "partek-dev", "tst": "partek-tst", "uat": "partek-flow-uat", "prd": "partek-flow-prd"}
ACCOUNTS = {"tst": "111111111111", "uat": "222222222222", "prd": "333333333333"}


def flow_image(env: str) -> str:
    """dev pulls upstream (mirror disabled); the others pull the ECR mirror's copy."""
    if env == "dev":
        return "registry.partek.com/rtw:23.0809.22"
    return f"{ACCOUNTS[env]}.dkr.ecr.us-west-2.amazonaws.com/flow-platform/partek-flow:23.0809.22"


def _container(obj: dict[str, Any], name: str) -> dict[str, Any]:
    [container] = [c for c in obj["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return container


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


def _policy(stack: Stack, namespace: str, name: str) -> dict[str, Any]:
    return stack.one("NetworkPolicy", name, namespace)["spec"]


# --- headnode -----------------------------------------------------------------------------------


def test_headnode_is_one_recreate_pod_with_the_seed_labels(env_stack: Stack) -> None:
    ns = PARTEK_NS[env_stack.name]
    headnode = env_stack.one("Deployment", "flowheadnode", ns)
    assert headnode["spec"]["replicas"] == 1
    assert headnode["spec"]["strategy"] == {"type": "Recreate"}
    labels = headnode["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "flowheadnode"
    assert labels["deployment"] == env_stack.name
    assert headnode["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "flowheadnode",
        "deployment": env_stack.name,
    }


def test_headnode_runs_as_1000_with_the_restricted_context(env_stack: Stack) -> None:
    pod = env_stack.one("Deployment", "flowheadnode", PARTEK_NS[env_stack.name])["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroup"] == 1000
    assert pod["securityContext"]["runAsUser"] == 1000
    assert pod["securityContext"]["runAsGroup"] == 1000
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = pod["containers"][0]["securityContext"]
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False


@pytest.mark.parametrize(
    ("env", "requests", "limits", "opts"),
    [
        # single-node: heap 4g + 512Mi non-heap + the internal worker's 11776 MB fill the 16Gi limit
        ("dev", {"cpu": "4", "memory": "16Gi"}, {"memory": "16Gi"}, "-DFLOW_WORKER_MEMORY_MB=11776 -Xmx4g"),
        (
            "tst",
            {"cpu": "8", "memory": "16Gi"},
            {"memory": "16Gi"},
            "-DFLOW_WORKER_MEMORY_MB=1024 -DFLOW_WORKER_CORES=2 -Xmx14g",
        ),
        (
            "prd",
            {"cpu": "16", "memory": "32Gi"},
            {"memory": "40Gi"},
            "-DFLOW_WORKER_MEMORY_MB=1024 -DFLOW_WORKER_CORES=2 -Xmx28g",
        ),
    ],
)
def test_headnode_resources_and_jvm_options_per_env(
    stack: Any, env: str, requests: dict[str, str], limits: dict[str, str], opts: str
) -> None:
    container = _container(stack(env).one("Deployment", "flowheadnode", PARTEK_NS[env]), "flowheadnode")
    assert container["resources"] == {"requests": requests, "limits": limits}
    env_vars = _env(container)
    assert env_vars["CATALINA_OPTS"] == opts
    assert env_vars["PARTEK_COMMON_NO_TOTAL_LIMITS"] == "1"
    assert container["image"] == flow_image(env)


@pytest.mark.parametrize(
    ("env", "address"),
    [
        ("dev", "27000@flexlmserver.partek-license-dev.svc"),
        ("tst", "27000@license.tst-devsvc.domain.com"),
        ("uat", "27000@flexlmserver.partek-license-uat.svc"),
        ("prd", "27000@flexlmserver.partek-license-prd.svc"),
    ],
)
def test_license_address_follows_the_license_mode(stack: Any, env: str, address: str) -> None:
    rendered = stack(env)
    container = _container(rendered.one("Deployment", "flowheadnode", PARTEK_NS[env]), "flowheadnode")
    assert _env(container)["PARTEKLM_LICENSE_FILE"] == address
    assert rendered.stack_outputs["partek"]["licenseAddress"] == address
    flexlm = rendered.objects("Deployment", f"partek-license-{env}")
    assert len(flexlm) == (1 if env in ("dev", "uat", "prd") else 0), (
        "only flexlm mode deploys a license server"
    )


def test_headnode_mounts_home_flow_and_probes_the_web_port(env_stack: Stack) -> None:
    pod = env_stack.one("Deployment", "flowheadnode", PARTEK_NS[env_stack.name])["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {"name": "home-flow", "mountPath": "/home/flow"} in container["volumeMounts"]
    assert {"name": "home-flow", "persistentVolumeClaim": {"claimName": "partek-flow-home"}} in pod["volumes"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "Tomcat needs minutes to start"
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container["ports"]


def test_no_flowconfig_without_a_ca_bundle(env_stack: Stack) -> None:
    ns = PARTEK_NS[env_stack.name]
    container = _container(env_stack.one("Deployment", "flowheadnode", ns), "flowheadnode")
    assert all(m["name"] != "flowconfig" for m in container["volumeMounts"])
    assert "trustStore" not in _env(container)["CATALINA_OPTS"]
    assert not [s for s in env_stack.objects("Secret", ns) if s["metadata"]["name"] == "flowconfig"]


def test_a_ca_bundle_mounts_flowconfig_read_only_and_sets_the_truststore() -> None:
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["headnode"]["caCerts"] = {"secure": "v1:Y2FjZXJ0cw=="}
    stack = Stack("dev", run_config("dev", config), {})
    container = _container(stack.one("Deployment", "flowheadnode", "partek-dev"), "flowheadnode")
    assert {"name": "flowconfig", "mountPath": "/etc/flowconfig", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert "-Djavax.net.ssl.trustStore=/etc/flowconfig/cacerts -Xmx4g" in _env(container)["CATALINA_OPTS"]
    secret = stack.one("Secret", "flowconfig", "partek-dev")
    assert secret["data"] == {"cacerts": "W3NlY3JldF0="}  # base64("[secret]"): data holds base64


def test_headnode_service_ports(env_stack: Stack) -> None:
    service = env_stack.one("Service", "flowheadnode", PARTEK_NS[env_stack.name])["spec"]
    assert service["type"] == "ClusterIP"
    assert service["selector"] == {"app.kubernetes.io/name": "flowheadnode", "deployment": env_stack.name}
    assert sorted((p["name"], p["port"], p["targetPort"]) for p in service["ports"]) == [
        ("akka", 2552, 2552),
        ("http", 80, 8080),
        ("licensing", 8443, 8443),
    ]


@pytest.mark.parametrize(
    ("env", "host", "secret", "issuer"),
    [
        ("dev", "flow.dev-devsvc.domain.com", "flowheadnode-tls", "letsencrypt-staging"),
        ("prd", "flow.svc.domain.com", "flow-prd-tls", None),
    ],
)
def test_ingress_is_https_only(stack: Any, env: str, host: str, secret: str, issuer: str | None) -> None:
    ingress = stack(env).one("Ingress", "flowheadnode", PARTEK_NS[env])
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert annotations.get("cert-manager.io/cluster-issuer") == issuer
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": [host], "secretName": secret}]
    [rule] = spec["rules"]
    assert rule["host"] == host
    assert rule["http"]["paths"][0]["backend"] == {
        "service": {"name": "flowheadnode", "port": {"name": "http"}}
    }


def test_headnode_network_policies_are_exactly_the_seeds_flows(stack: Any) -> None:
    prd = stack("prd")
    ns = "partek-flow-prd"
    controller = _policy(prd, ns, "flowheadnode-allow-ingress-controller")["ingress"]
    assert controller == [
        {
            "from": [
                {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                }
            ],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        }
    ]
    workers = _policy(prd, ns, "flowheadnode-allow-workers")["ingress"][0]
    assert workers["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "flowworker", "deployment": "prd"}}}
    ]
    assert workers["ports"] == [{"port": 2552, "protocol": "TCP"}, {"port": 8443, "protocol": "TCP"}]
    license_egress = _policy(prd, ns, "flowheadnode-allow-license-server")["egress"][0]
    assert license_egress["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "partek-license-prd"}
    }
    assert license_egress["ports"] == [{"port": 27000, "protocol": "TCP"}, {"port": 27001, "protocol": "TCP"}]
    dns = _policy(prd, ns, "flowheadnode-allow-dns")["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    names = sorted(p["metadata"]["name"] for p in prd.objects("NetworkPolicy", ns))
    assert names == [
        "default-deny",
        "flowheadnode-allow-dns",
        "flowheadnode-allow-ingress-controller",
        "flowheadnode-allow-license-server",
        "flowheadnode-allow-workers",
        "flowheadnode-to-workers",
        "flowworker-allow-dns",
        "flowworker-allow-headnode",
        "flowworker-allow-headnode-in",
    ]


def test_external_license_server_egress_is_its_cidr(stack: Any) -> None:
    egress = _policy(stack("tst"), "partek-tst", "flowheadnode-allow-license-server")["egress"][0]
    assert egress["to"] == [{"ipBlock": {"cidr": "10.20.50.10/32"}}]


# --- FlexLM -------------------------------------------------------------------------------------


def test_flexlm_server_is_single_replica_recreate_with_its_service(stack: Any) -> None:
    prd = stack("prd")
    ns = "partek-license-prd"
    server = prd.one("Deployment", "flexlmserver", ns)
    assert server["spec"]["replicas"] == 1
    assert server["spec"]["strategy"] == {"type": "Recreate"}
    service = prd.one("Service", "flexlmserver", ns)["spec"]
    assert sorted((p["name"], p["port"], p["targetPort"]) for p in service["ports"]) == [
        ("lmgrd", 27000, 27000),
        ("vendor", 27001, 27001),
    ]


def test_flexlm_adds_only_net_admin_and_keeps_the_rest_restricted(stack: Any) -> None:
    pod = stack("prd").one("Deployment", "flexlmserver", "partek-license-prd")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    context = container["securityContext"]
    assert context["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    # capabilities are effective only for UID 0 (no ambient capabilities in Kubernetes)
    assert context["runAsUser"] == 0
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi", "cpu": "1"},
    }
    [installer] = pod["initContainers"]
    assert installer["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "hostNetwork" not in pod and "hostPID" not in pod, (
        "the MAC interface is made in the pod's own netns"
    )


def test_flexlm_license_arrives_from_a_secret_through_an_init_container(stack: Any) -> None:
    prd = stack("prd")
    ns = "partek-license-prd"
    secret = prd.one("Secret", "flexlm-license", ns)
    assert secret["stringData"] == {"Partek.lic": "[secret]"}
    pod = prd.one("Deployment", "flexlmserver", ns)["spec"]["template"]["spec"]
    [installer] = pod["initContainers"]
    assert (
        "cp '/license-src/Partek.lic' '/usr/local/flexlm/licenses/.Partek.lic.new'" in installer["command"][2]
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["license-src"]["secret"]["secretName"] == "flexlm-license"
    assert volumes["licenses"]["persistentVolumeClaim"]["claimName"] == "flexlmserver-pvc"
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert "/usr/local/flexlm/licenses" in mounts
    assert "/license-src" not in mounts, "the main container never sees the Secret"


def test_flexlm_volume_is_10gi_rwo_protected_and_retained_in_prd(stack: Any) -> None:
    prd = stack("prd")
    claim = prd.one("PersistentVolumeClaim", "flexlmserver-pvc", "partek-license-prd")["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert claim["resources"] == {"requests": {"storage": "10Gi"}}
    assert claim["storageClassName"] == "gp3"
    reg = prd.by_name("flexlm-volume")
    assert reg.options["protect"] is True
    assert reg.options["retain_on_delete"] is True


def test_flexlm_namespace_is_the_narrowest_documented_exception(stack: Any) -> None:
    ns = stack("uat").one("Namespace", "partek-license-uat")["metadata"]
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert ns["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    assert "NET_ADMIN" in ns["annotations"]["flow-platform/pod-security-exception"]
    # the Flow namespace itself stays restricted
    flow = stack("uat").one("Namespace", "partek-flow-uat")["metadata"]
    assert flow["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_only_the_headnode_reaches_the_license_server(stack: Any) -> None:
    spec = _policy(stack("prd"), "partek-license-prd", "flexlmserver-allow-headnode")
    assert spec["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "flexlmserver", "deployment": "prd"}
    }
    [rule] = spec["ingress"]
    assert rule["from"] == [
        {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "flowheadnode", "deployment": "prd"}},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "partek-flow-prd"}},
        }
    ]
    assert rule["ports"] == [{"port": 27000, "protocol": "TCP"}, {"port": 27001, "protocol": "TCP"}]


def test_a_real_license_text_is_checked_and_stays_secret() -> None:
    config = raw_stack_yaml("prd")["config"]
    config["flow-platform:partek"]["license"]["text"] = GOOD_LICENSE
    registrations = run_config("prd", config, secret_keys=["flow-platform:partek"])
    secret = next(r for r in registrations if r.name == "flexlm-license")
    assert secret.inputs["stringData"] == {"Partek.lic": "[secret]"}
    assert "0242ac120002" not in repr([r.inputs for r in registrations])


# --- workers and storage ------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "replicas"), [("dev", None), ("tst", 1), ("uat", 2), ("prd", 4)])
def test_workers_per_env(stack: Any, env: str, replicas: int | None) -> None:
    workers = stack(env).objects("Deployment", PARTEK_NS[env])
    found = [w for w in workers if w["metadata"]["name"] == "flowworker"]
    if replicas is None:
        assert found == [], "dev runs single-node, without workers"
        return
    [deployment] = found
    assert deployment["spec"]["replicas"] == replicas
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == flow_image(env)
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["fsGroup"] == 1000
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "home-flow", "mountPath": "/home/flow"} in container["volumeMounts"]
    env_vars = _env(container)
    assert env_vars["FLOW_SERVER_HOST"] == "flowheadnode"
    assert env_vars["FLOW_SERVER_PORT"] == "2552"
    assert env_vars["PARTEK_COMMON_NO_TOTAL_LIMITS"] == "1"
    assert container["args"] == ["flowheadnode", "2552"]
    assert "limits" in container["resources"] and "memory" in container["resources"]["limits"]


def test_workers_reach_only_the_headnode(stack: Any) -> None:
    spec = _policy(stack("prd"), "partek-flow-prd", "flowworker-allow-headnode")
    [rule] = spec["egress"]
    assert rule["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "flowheadnode", "deployment": "prd"}}}
    ]
    assert rule["ports"] == [{"port": 2552, "protocol": "TCP"}, {"port": 8443, "protocol": "TCP"}]


@pytest.mark.parametrize("env", ENVS)
def test_home_flow_claim_is_the_efs_volume_and_protected_as_configured(stack: Any, env: str) -> None:
    rendered = stack(env)
    claim = rendered.one("PersistentVolumeClaim", "partek-flow-home", PARTEK_NS[env])["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"]
    assert claim["storageClassName"] == "", "statically bound, never dynamically provisioned"
    assert claim["volumeName"] == f"{PARTEK_NS[env]}-partek-flow-home"
    protect = raw_stack_yaml(env)["config"]["flow-platform:protect"]
    for name in ("partek-home-claim", "partek-home-pv", "partek-home-fs", "partek-home-ap"):
        reg = rendered.by_name(name)
        assert reg.options["protect"] is protect, name
        assert reg.options["retain_on_delete"] is True, name
