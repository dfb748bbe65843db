"""Partek Flow on a real cluster, day 1 and day 2 (issue #15, Partek half).

Each item: the pure decision, then the rendered object. Facts the tests rely on are cited where
they come from (Kubernetes, cert-manager, pulumi-kubernetes sources at the versions named).
"""

import base64
import copy
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import ENVS, Stack, raw_stack_yaml, run_config
from flow_platform.k8s.resources import (
    admitted_container_resources,
    api_server_limit_range_item,
    limit_range_spec,
)
from flow_platform.k8s.rollout import (
    checksum_annotation_key,
    checksum_annotations,
    content_checksum,
    rollout_budget_seconds,
)
from flow_platform.partek import HOME_NOMINAL_CAPACITY
from flow_platform.partek.flexlm_admission import flexlm_binding_spec, flexlm_policy_spec
from flow_platform.partek.flexlm_server import license_install_script
from flow_platform_stacks.systems.partek.config import home_size_problem
from flow_platform_stacks.systems.partek.deploy import docker_config_json
from flow_platform_stacks.tooling.render import kubernetes_objects
from test_partek_sizing import GOOD_LICENSE

PARTEK_NS = {"dev": "partek-dev", "tst": "partek-tst", "uat": "partek-flow-uat", "prd": "partek-flow-prd"}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def _objects(registrations: Any, kind: str, name: str) -> dict[str, Any]:
    [found] = [
        o for o in kubernetes_objects(registrations) if o["kind"] == kind and o["metadata"]["name"] == name
    ]
    return found


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def _registration(stack: Stack, name: str) -> Any:
    return stack.by_name(name)


# --- item 2: the license installs on every start, and pods roll when what they read once changes ---


def _run_as_owner_without_overrides(script: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` the way the init container runs: UID 0 with every capability dropped.

    As root, ``setpriv`` clears the bounding and inheritable sets, so the shell is UID 0 without
    CAP_DAC_OVERRIDE; without ``setpriv``, an unprivileged owner of ``workdir`` has the same
    permissions there. As any other user, the user already lacks the capability.
    """
    if os.geteuid() != 0:
        return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "sh", "-c", script]
        return subprocess.run(command, capture_output=True, text=True, check=False)
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, 65534, 65534)
    return subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, check=False, user=65534, group=65534
    )


@pytest.fixture
def workdir() -> Any:
    """A directory reachable by an unprivileged user (pytest's tmp_path is 0700 under root's)."""
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


def _rendered_installer(stack: Stack, source_dir: Path, license_dir: Path) -> str:
    pod = _pod(stack.one("Deployment", "flexlmserver", "partek-license-prd"))
    [installer] = pod["initContainers"]
    assert installer["command"][:2] == ["sh", "-c"]
    assert installer["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert installer["securityContext"]["runAsUser"] == 0
    script: str = installer["command"][2]
    return script.replace("/license-src", str(source_dir)).replace(
        "/usr/local/flexlm/licenses", str(license_dir)
    )


def test_the_rendered_license_installer_survives_restarts_and_installs_a_new_license(
    stack: Any, workdir: Path
) -> None:
    tmp_path = workdir
    source, licenses = tmp_path / "src", tmp_path / "licenses"
    source.mkdir()
    licenses.mkdir()
    script = _rendered_installer(stack("prd"), source, licenses)
    installed = licenses / "Partek.lic"
    staged = licenses / ".Partek.lic.new"  # left read-only by an install interrupted before its rename
    staged.write_text("half")
    staged.chmod(0o444)
    for text in ("first license\n", "first license\n", "renewed license\n"):  # start, restart, new license
        (source / "Partek.lic").write_text(text)
        result = _run_as_owner_without_overrides(script, tmp_path)
        assert result.returncode == 0, result.stderr
        assert installed.read_text() == text
        assert installed.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in licenses.iterdir()) == ["Partek.lic"], "no staged copy left behind"


def test_the_seeds_copy_fails_on_the_second_start_in_the_same_setup(workdir: Path) -> None:
    """The harness above reproduces the crash loop: ``cp`` onto the 0444 copy is refused."""
    tmp_path = workdir
    (tmp_path / "Partek.lic").write_text("license\n")
    (tmp_path / "licenses").mkdir()
    target = f"{tmp_path}/licenses/Partek.lic"
    old = f"cp {tmp_path}/Partek.lic {target} && chmod 0444 {target}"
    assert _run_as_owner_without_overrides(old, tmp_path).returncode == 0
    second = _run_as_owner_without_overrides(old, tmp_path)
    assert second.returncode != 0 and "Permission denied" in second.stderr
    fixed = license_install_script(f"{tmp_path}/Partek.lic", f"{tmp_path}/licenses", "Partek.lic")
    assert _run_as_owner_without_overrides(fixed, tmp_path).returncode == 0


def test_content_checksums_are_sha256_of_the_content_and_order_independent() -> None:
    assert content_checksum("abc") == hashlib.sha256(b"abc").hexdigest()
    assert content_checksum({"b": 1, "a": 2}) == content_checksum({"a": 2, "b": 1})
    assert content_checksum({"a": 1}) != content_checksum({"a": 2})
    assert checksum_annotation_key("license") == "flow-platform/checksum-license"
    for bad in ("Licence", "a/b", "x" * 60):
        with pytest.raises(ValueError, match="checksum name"):
            checksum_annotation_key(bad)
    with pytest.raises(ValueError):
        checksum_annotations({"Bad Name": "x"})


def _flexlm_with_license(text: str) -> dict[str, Any]:
    config = raw_stack_yaml("prd")["config"]
    config["flow-platform:partek"]["license"]["text"] = text
    registrations = run_config("prd", config, secret_keys=["flow-platform:partek"])
    return _objects(registrations, "Deployment", "flexlmserver")


@pytest.mark.fresh_evaluation  # 'again' must be a second evaluation
def test_a_license_change_rolls_the_license_server_and_only_then() -> None:
    first = _flexlm_with_license(GOOD_LICENSE)["spec"]["template"]["metadata"]["annotations"]
    assert first == {"flow-platform/checksum-license": hashlib.sha256(GOOD_LICENSE.encode()).hexdigest()}
    again = _flexlm_with_license(GOOD_LICENSE)["spec"]["template"]["metadata"]["annotations"]
    assert again == first, "an unchanged license leaves the pod template unchanged (no rollout)"
    renewed = GOOD_LICENSE.replace("31-dec-2026", "31-dec-2027")
    changed = _flexlm_with_license(renewed)["spec"]["template"]["metadata"]["annotations"]
    assert changed != first, "a new license changes the pod template: the Deployment rolls"


def _headnode_with_ca(ca: str | None) -> dict[str, Any]:
    config = raw_stack_yaml("dev")["config"]
    if ca is not None:
        config["flow-platform:partek"]["headnode"]["caCerts"] = ca
    registrations = run_config("dev", config, secret_keys=["flow-platform:partek"])
    return _objects(registrations, "Deployment", "flowheadnode")


def test_a_new_truststore_rolls_the_headnode_which_reads_it_once() -> None:
    assert "annotations" not in _headnode_with_ca(None)["spec"]["template"]["metadata"]
    first = _headnode_with_ca("Y2FjZXJ0cw==")["spec"]["template"]["metadata"]["annotations"]
    assert first == {"flow-platform/checksum-flowconfig": hashlib.sha256(b"Y2FjZXJ0cw==").hexdigest()}
    second = _headnode_with_ca("bmV3IGNhY2VydHM=")["spec"]["template"]["metadata"]["annotations"]
    assert second != first


# --- item 7: the static claim's nominal capacity never changes ----------------------------------


def test_home_size_applies_only_where_kubernetes_can_resize() -> None:
    assert home_size_problem(efs=True, own_claim=False, size_set=False) is None
    efs = home_size_problem(efs=True, own_claim=False, size_set=True)
    assert efs is not None and "refuses to resize a claim without a StorageClass" in efs
    assert home_size_problem(efs=False, own_claim=True, size_set=True) is not None
    assert home_size_problem(efs=False, own_claim=False, size_set=True) is None


@pytest.mark.parametrize("env", ENVS)
def test_the_static_efs_claim_and_volume_keep_a_fixed_nominal_capacity(stack: Any, env: str) -> None:
    rendered = stack(env)
    claim = rendered.one("PersistentVolumeClaim", "partek-flow-home", PARTEK_NS[env])["spec"]
    assert claim["storageClassName"] == ""
    assert claim["resources"] == {"requests": {"storage": HOME_NOMINAL_CAPACITY}}
    [volume] = [
        v for v in rendered.objects("PersistentVolume") if v["metadata"]["name"] == claim["volumeName"]
    ]
    assert volume["spec"]["capacity"] == {"storage": HOME_NOMINAL_CAPACITY}


def test_a_size_for_the_efs_home_is_a_config_error(bad_config: Any) -> None:
    result = bad_config("prd", lambda c: c["flow-platform:partek"]["home"].update(size="20Ti"))
    assert "flow-platform:partek.home.size" in result.message
    assert "refuses to resize a claim without a StorageClass" in result.message
    assert result.registered == []


def test_a_storage_class_home_claim_carries_its_size() -> None:
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["home"] = {"storageClass": "efs-sc", "size": "300Gi"}
    claim = _objects(run_config("dev", config), "PersistentVolumeClaim", "partek-flow-home")
    assert claim["spec"]["storageClassName"] == "efs-sc"
    assert claim["spec"]["resources"] == {"requests": {"storage": "300Gi"}}


# --- item 8: the worker's port is pinned and Akka flows both ways --------------------------------


def test_worker_port_is_pinned_and_declared(stack: Any) -> None:
    [container] = _pod(stack("prd").one("Deployment", "flowworker", "partek-flow-prd"))["containers"]
    assert container["ports"] == [{"name": "akka", "containerPort": 2552, "protocol": "TCP"}]
    assert {"name": "FLOW_WORKER_PORT", "value": "2552"} in container["env"]


def test_headnode_and_workers_reach_each_other_both_ways(stack: Any) -> None:
    prd = stack("prd")
    ns = "partek-flow-prd"
    head = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "flowheadnode", "deployment": "prd"}}}
    workers = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "flowworker", "deployment": "prd"}}}
    out = prd.one("NetworkPolicy", "flowheadnode-to-workers", ns)["spec"]
    assert out["podSelector"] == {"matchLabels": head["podSelector"]["matchLabels"]}
    assert out["egress"] == [{"to": [workers], "ports": [{"port": 2552, "protocol": "TCP"}]}]
    into = prd.one("NetworkPolicy", "flowworker-allow-headnode-in", ns)["spec"]
    assert into["podSelector"] == {"matchLabels": workers["podSelector"]["matchLabels"]}
    assert into["ingress"] == [{"from": [head], "ports": [{"port": 2552, "protocol": "TCP"}]}]


def test_a_configured_worker_port_is_used_everywhere() -> None:
    config = raw_stack_yaml("tst")["config"]
    config["flow-platform:partek"]["workers"]["port"] = 2600
    registrations = run_config("tst", config)
    [container] = _pod(_objects(registrations, "Deployment", "flowworker"))["containers"]
    assert container["ports"][0]["containerPort"] == 2600
    out = _objects(registrations, "NetworkPolicy", "flowheadnode-to-workers")["spec"]
    into = _objects(registrations, "NetworkPolicy", "flowworker-allow-headnode-in")["spec"]
    assert out["egress"][0]["ports"] == into["ingress"][0]["ports"] == [{"port": 2600, "protocol": "TCP"}]


def test_single_node_opens_no_worker_flows(stack: Any) -> None:
    names = {p["metadata"]["name"] for p in stack("dev").objects("NetworkPolicy", "partek-dev")}
    assert not {n for n in names if "worker" in n}


# --- item 9: cert-manager's HTTP-01 solver is reachable when the issuer uses it ------------------

SOLVER_POLICY = "acme-http01-solver-allow-ingress-controller"


@pytest.mark.parametrize(("env", "present"), [("dev", True), ("tst", True), ("uat", False), ("prd", False)])
def test_http01_solver_pods_get_exactly_the_controllers_traffic_on_8089(
    stack: Any, env: str, present: bool
) -> None:
    found = [
        p
        for p in stack(env).objects("NetworkPolicy", PARTEK_NS[env])
        if p["metadata"]["name"] == SOLVER_POLICY
    ]
    if not present:
        assert found == [], "a TLS secret needs no solver"
        return
    [policy] = found
    # cert-manager pkg/issuer/acme/http/http.go acmeSolverListenPort = 8089;
    # pkg/apis/acme/v1/types.go SolverIdentificationLabelKey = acme.cert-manager.io/http01-solver
    assert policy["spec"]["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["ingress"] == [
        {
            "from": [
                {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                }
            ],
            "ports": [{"port": 8089, "protocol": "TCP"}],
        }
    ]


def test_a_dns01_issuer_opens_nothing() -> None:
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["ingress"]["acmeChallenge"] = "dns-01"
    names = {o["metadata"]["name"] for o in kubernetes_objects(run_config("dev", config))}
    assert SOLVER_POLICY not in names


@pytest.mark.parametrize(
    ("env", "change", "fragment"),
    [
        ("dev", lambda i: i.pop("acmeChallenge"), "required with clusterIssuer: http-01"),
        ("prd", lambda i: i.update(acmeChallenge="http-01"), "only applies with clusterIssuer"),
    ],
)
def test_the_challenge_type_is_stated_with_a_cluster_issuer(
    bad_config: Any, env: str, change: Any, fragment: str
) -> None:
    result = bad_config(env, lambda c: change(c["flow-platform:partek"]["ingress"]))
    assert "flow-platform:partek.ingress.acmeChallenge" in result.message
    assert fragment in result.message


# --- item 10: Pulumi waits longer than the probes allow; FlexLM and /home/flow come first ---------


def test_rollout_budget_covers_stop_pull_and_startup() -> None:
    assert rollout_budget_seconds(900, 120) == 120 + 600 + 900
    assert rollout_budget_seconds(120, 30, image_pull_seconds=60) == 210


def _minutes(text: str) -> int:
    assert text.endswith("m")
    return int(text[:-1])


@pytest.mark.parametrize(
    ("env", "resource", "kind", "name", "namespace"),
    [
        ("prd", "flow-headnode-deployment", "Deployment", "flowheadnode", "partek-flow-prd"),
        ("dev", "flow-headnode-deployment", "Deployment", "flowheadnode", "partek-dev"),
        ("prd", "flexlm-deployment", "Deployment", "flexlmserver", "partek-license-prd"),
    ],
)
def test_pulumi_waits_longer_than_the_probes_allow(
    stack: Any, env: str, resource: str, kind: str, name: str, namespace: str
) -> None:
    rendered = stack(env)
    pod = _pod(rendered.one(kind, name, namespace))
    startup = pod["containers"][0]["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"] + pod["terminationGracePeriodSeconds"]
    timeouts = _registration(rendered, resource).options["custom_timeouts"]
    # pulumi-kubernetes fails a Deployment not ready after 10 minutes unless customTimeouts say longer
    assert _minutes(timeouts["create"]) * 60 > budget
    assert _minutes(timeouts["update"]) * 60 > budget
    if name == "flowheadnode":
        assert budget > 600, "the headnode's own budget is past Pulumi's default wait"


@pytest.mark.parametrize("env", ["dev", "uat", "prd"])
def test_the_headnode_starts_after_its_license_server_and_home_volume(stack: Any, env: str) -> None:
    rendered = stack(env)
    depends = _registration(rendered, "flow-headnode-deployment").options["depends_on"]
    for first in ("flexlm-deployment", "partek-home-claim", "partek-home-pv", "priority-partek-critical"):
        assert _registration(rendered, first).urn in depends, first


def test_a_storage_class_home_claim_also_comes_first() -> None:
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["home"] = {"storageClass": "efs-sc"}
    registrations = run_config("dev", config)
    [claim] = [r for r in registrations if r.name == "home-flow-claim"]
    [headnode] = [r for r in registrations if r.name == "flow-headnode-deployment"]
    assert claim.urn in headnode.options["depends_on"]


# --- item 12: LimitRange CPU defaulting, rendered as the API server applies it -------------------


def test_api_server_limit_range_defaulting_mirrors_upstream() -> None:
    # kubernetes pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem (v1.32)
    item = {"type": "Container", "max": {"cpu": "32", "memory": "8Gi"}, "defaultRequest": {"cpu": "1"}}
    assert api_server_limit_range_item(item) == {
        "type": "Container",
        "max": {"cpu": "32", "memory": "8Gi"},
        "default": {"cpu": "32", "memory": "8Gi"},  # max without default: the limit defaults to max
        "defaultRequest": {"cpu": "1", "memory": "8Gi"},  # default without defaultRequest
    }
    assert api_server_limit_range_item({"type": "Container", "min": {"cpu": "100m"}})["defaultRequest"] == {
        "cpu": "100m"
    }


def test_max_cpu_without_default_cpu_silently_limits_every_container() -> None:
    """What issue #15 item 12 reports, reproduced by the admission model: "no CPU limit" is undone."""
    seed_style = {
        "type": "Container",
        "defaultRequest": {"cpu": "1", "memory": "2Gi"},
        "default": {"memory": "8Gi"},
        "max": {"cpu": "32", "memory": "128Gi"},
    }
    jvm = {"requests": {"cpu": "16", "memory": "32Gi"}, "limits": {"memory": "40Gi"}}
    assert admitted_container_resources(jvm, seed_style)["limits"] == {"cpu": "32", "memory": "40Gi"}
    rendered = limit_range_spec(seed_style["defaultRequest"], seed_style["default"], seed_style["max"])
    [item] = rendered["limits"]
    assert admitted_container_resources(jvm, item) == jvm, "our LimitRange leaves the JVM without a CPU limit"


def test_a_namespace_that_wants_cpu_limits_gets_max_cpu_with_its_default() -> None:
    [item] = limit_range_spec(
        {"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "2Gi"}, {"cpu": "8", "memory": "8Gi"}
    )["limits"]
    assert item["max"] == {"cpu": "8", "memory": "8Gi"}
    assert item["default"] == {"cpu": "2", "memory": "2Gi"}
    with pytest.raises(ValueError, match="Maximum cpu usage per Container is 8, but limit is 16"):
        admitted_container_resources({"requests": {"cpu": "1"}, "limits": {"cpu": "16"}}, item)


def test_every_rendered_limit_range_is_what_the_api_server_stores(env_stack: Stack) -> None:
    for limit_range in env_stack.objects("LimitRange"):
        for item in limit_range["spec"]["limits"]:
            assert api_server_limit_range_item(item) == item, limit_range["metadata"]


def _pod_templates(stack: Stack) -> list[tuple[str, dict[str, Any]]]:
    templates: list[tuple[str, dict[str, Any]]] = []
    for obj in stack.objects():
        if obj["kind"] in WORKLOADS:
            templates.append((obj["metadata"]["namespace"], obj["spec"]["template"]["spec"]))
        elif obj["kind"] == "CronJob":
            templates.append(
                (obj["metadata"]["namespace"], obj["spec"]["jobTemplate"]["spec"]["template"]["spec"])
            )
    return templates


def test_every_rendered_pod_is_admitted_with_exactly_the_resources_it_shows(env_stack: Stack) -> None:
    """All systems' pods: the LimitRanger adds nothing and refuses nothing, so the render is honest."""
    ranges = {lr["metadata"]["namespace"]: lr["spec"]["limits"][0] for lr in env_stack.objects("LimitRange")}
    templates = _pod_templates(env_stack)
    assert templates
    for namespace, pod in templates:
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            resources = container.get("resources", {})
            admitted = admitted_container_resources(copy.deepcopy(resources), ranges[namespace])
            assert admitted == resources, f"{namespace}/{container['name']}: {resources} -> {admitted}"


# --- item 15: upstream pulls with a pull secret, or the mirror -----------------------------------


def test_docker_config_json_carries_the_basic_auth() -> None:
    config = json.loads(docker_config_json("registry.partek.com", "flow", "s3cret"))
    entry = config["auths"]["registry.partek.com"]
    assert base64.b64decode(entry["auth"]).decode() == "flow:s3cret"
    assert entry["username"] == "flow"


def test_dev_pulls_registry_partek_com_with_a_secret_pull_secret(stack: Any) -> None:
    dev = stack("dev")
    secret = dev.one("Secret", "partek-registry", "partek-dev")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    # a secret value: the render masks it (and puts the type's valid empty value in its place)
    assert secret["stringData"] == {".dockerconfigjson": '{"auths":{}}'}
    for name in ("flowheadnode",):
        pod = _pod(dev.one("Deployment", name, "partek-dev"))
        assert pod["imagePullSecrets"] == [{"name": "partek-registry"}]
        assert pod["containers"][0]["image"].startswith("registry.partek.com/")
    # FlexLM's image is public (public.ecr.aws): no credentials there
    assert "imagePullSecrets" not in _pod(dev.one("Deployment", "flexlmserver", "partek-license-dev"))


@pytest.mark.parametrize("env", ["tst", "uat", "prd"])
def test_mirrored_envs_need_no_pull_secret(stack: Any, env: str) -> None:
    rendered = stack(env)
    assert not [s for s in rendered.objects("Secret") if s["metadata"]["name"] == "partek-registry"]
    assert "imagePullSecrets" not in _pod(rendered.one("Deployment", "flowheadnode", PARTEK_NS[env]))


def test_a_password_reaches_the_secret_and_nothing_else() -> None:
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["imagePullAuth"]["password"] = "pa55-word-xyz"
    registrations = run_config("dev", config, secret_keys=["flow-platform:partek"])
    assert "pa55-word-xyz" not in repr([r.inputs for r in registrations])
    [secret] = [r for r in registrations if r.name == "registry-auth-partek"]
    assert secret.inputs["stringData"] == {".dockerconfigjson": '{"auths":{}}'}, "masked: a secret"


@pytest.mark.parametrize(
    ("env", "mutate", "fragment"),
    [
        ("dev", lambda p: p.pop("imagePullAuth"), "required: the ECR mirror is off"),
        (
            "prd",
            lambda p: p.update(imagePullAuth={"username": "u", "password": {"secure": "v1:x"}}),
            "not used: the ECR mirror serves the images",
        ),
    ],
)
def test_pull_credentials_are_required_exactly_without_the_mirror(
    bad_config: Any, env: str, mutate: Any, fragment: str
) -> None:
    result = bad_config(env, lambda c: mutate(c["flow-platform:partek"]))
    assert "flow-platform:partek.imagePullAuth" in result.message
    assert fragment in result.message
    assert result.registered == []


# --- item 16: dev's license path works ----------------------------------------------------------


def test_no_env_relies_on_a_mac_bound_license_file() -> None:
    modes = {env: raw_stack_yaml(env)["config"]["flow-platform:partek"]["license"]["mode"] for env in ENVS}
    assert "file" not in modes.values(), modes
    assert modes["dev"] == "flexlm"


def test_dev_runs_its_own_license_server_in_the_exception_namespace(stack: Any) -> None:
    dev = stack("dev")
    assert dev.one("Namespace", "partek-license-dev")["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"
    ] == ("privileged")
    assert dev.one("Deployment", "flexlmserver", "partek-license-dev")["spec"]["replicas"] == 1
    assert dev.stack_outputs["partek"]["licenseAddress"] == "27000@flexlmserver.partek-license-dev.svc"


# --- expected by a platform team ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "namespace", "max_unavailable"),
    [
        ("flowheadnode", "partek-flow-prd", 0),
        ("flexlmserver", "partek-license-prd", 0),
        ("flowworker", "partek-flow-prd", 1),
    ],
)
def test_disruption_budgets(stack: Any, name: str, namespace: str, max_unavailable: int) -> None:
    prd = stack("prd")
    pdb = prd.one("PodDisruptionBudget", name, namespace)["spec"]
    workload = prd.one("Deployment", name, namespace)
    assert pdb["selector"] == workload["spec"]["selector"]
    assert pdb["maxUnavailable"] == max_unavailable
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow", "a crash-looping pod never blocks a drain"


def test_headnode_and_license_server_share_a_priority_class(stack: Any) -> None:
    prd = stack("prd")
    [priority] = prd.objects("PriorityClass")
    assert priority["metadata"]["name"] == "partek-critical-prd"
    assert 0 < priority["value"] < 1_000_000_000
    assert priority["globalDefault"] is False
    assert priority["preemptionPolicy"] == "PreemptLowerPriority"
    for name, namespace in (("flowheadnode", "partek-flow-prd"), ("flexlmserver", "partek-license-prd")):
        assert _pod(prd.one("Deployment", name, namespace))["priorityClassName"] == "partek-critical-prd"
    assert "priorityClassName" not in _pod(prd.one("Deployment", "flowworker", "partek-flow-prd"))
    reg = _registration(prd, "flexlm-deployment")
    assert _registration(prd, "priority-partek-critical").urn in reg.options["depends_on"]


def test_workers_spread_roll_without_losing_capacity_and_stop_gracefully(stack: Any) -> None:
    workers = stack("prd").one("Deployment", "flowworker", "partek-flow-prd")
    assert workers["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    pod = _pod(workers)
    assert pod["terminationGracePeriodSeconds"] == 3600
    spread = pod["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    for constraint in spread:
        assert constraint["labelSelector"] == {"matchLabels": workers["spec"]["selector"]["matchLabels"]}
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"


def test_worker_grace_period_is_config() -> None:
    config = raw_stack_yaml("tst")["config"]
    config["flow-platform:partek"]["workers"]["terminationGracePeriodSeconds"] = 7200
    pod = _pod(_objects(run_config("tst", config), "Deployment", "flowworker"))
    assert pod["terminationGracePeriodSeconds"] == 7200


IMAGE = "111.dkr.ecr.us-west-2.amazonaws.com/flow-platform/flexlm:11.19.1"


def test_flexlm_policy_names_the_image_and_every_rule() -> None:
    spec = flexlm_policy_spec(IMAGE)
    assert spec["failurePolicy"] == "Fail"
    [rule] = spec["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["pods", "pods/ephemeralcontainers"]
    assert rule["operations"] == ["CREATE", "UPDATE"]
    expressions = " ".join(v["expression"] for v in spec["validations"])
    assert f"c.image == '{IMAGE}'" in expressions
    for fragment in (
        "'NET_ADMIN'",
        "hostNetwork",
        "hostPort",
        "ephemeralContainers",
        "automountServiceAccountToken",
    ):
        assert fragment in expressions
    # a quote in the image cannot break out of the CEL string
    assert "'a\\'b'" in " ".join(v["expression"] for v in flexlm_policy_spec("a'b")["validations"])
    binding = flexlm_binding_spec("p", "partek-license-prd")
    assert binding["validationActions"] == ["Deny"]
    assert binding["matchResources"] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "partek-license-prd"}}
    }


def test_flexlm_namespace_admits_exactly_the_rendered_flexlm_pod(stack: Any) -> None:
    prd = stack("prd")
    [policy] = prd.objects("ValidatingAdmissionPolicy")
    [binding] = prd.objects("ValidatingAdmissionPolicyBinding")
    image = _pod(prd.one("Deployment", "flexlmserver", "partek-license-prd"))["containers"][0]["image"]
    assert policy["spec"] == flexlm_policy_spec(image)
    assert binding["spec"] == flexlm_binding_spec(policy["metadata"]["name"], "partek-license-prd")
    assert (
        binding["spec"]["policyName"] == policy["metadata"]["name"] == "flexlm-pod-shape-partek-license-prd"
    )
    depends = _registration(prd, "flexlm-deployment").options["depends_on"]
    assert _registration(prd, "flexlm-admission-binding").urn in depends, (
        "an image bump updates the policy first"
    )


def test_building_blocks_refuse_what_kubernetes_would() -> None:
    from flow_platform.k8s.workload import component_depends_on, pdb_spec

    with pytest.raises(ValueError, match="zero or more"):
        pdb_spec({"a": "b"}, -1)
    assert component_depends_on(None) == []
    assert component_depends_on(pulumi.ResourceOptions()) == []
    with pytest.raises(TypeError, match="resource or a list of resources"):
        component_depends_on(pulumi.ResourceOptions(depends_on=pulumi.Output.from_input([])))  # type: ignore[arg-type]


def test_optional_pod_fields_appear_only_when_set() -> None:
    from flow_platform.k8s.workload import scheduling_fields

    assert scheduling_fields() == {}
    assert scheduling_fields("", []) == {}
    assert scheduling_fields("flow-critical", ["upstream"]) == {
        "priorityClassName": "flow-critical",
        "imagePullSecrets": [{"name": "upstream"}],
    }
