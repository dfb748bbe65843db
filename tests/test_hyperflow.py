"""HyperFlow as the env stacks deploy it, checked against the engine's own code.

The engine is hyperflow-wms/hyperflow v1.5.7, the version of the pinned image. Its files are vendored
in ``tests/data/hyperflow-1.5.7`` (see the README there) and run with node by ``hyperflow_engine.js``:
the rendered job template is filled by ``k8sJobSubmit.js``, the engine's command line is parsed by
``bin/hflow.js``'s docopt usage, a failed task goes through ``k8sCommand.js``, and the server binds
where ``common/wfRun.js`` binds it.
"""

import copy
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import ROOT, Stack, raw_stack_yaml, run_config
from flow_platform.hyperflow.nfs_server import GANESHA_CAPABILITIES, ganesha_config
from flow_platform.hyperflow.redis import maxmemory_bytes
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor
from hyperflow_support import (
    DNS_LABEL,
    ENGINE_DIR,
    EXECUTOR_USAGE,
    HARNESS,
    NODE,
    NS,
    SERVER_ENVS,
    TEST_PASSWORD,
    _engine,
    _engine_container,
    _events,
    _filled_job,
    _secrets,
    _template,
    needs_node,
    resolve_env,
    run_engine,
    run_task,
)

# ---- 1. the job template, filled by the engine, is a Job the API server accepts -----------------


@needs_node
@pytest.mark.parametrize("env", ["dev", "tst", "prd"])
def test_the_engine_fills_the_template_into_a_valid_restricted_job(
    stack: Any, env: str, tmp_path: Path
) -> None:
    rendered = stack(env)
    job = _filled_job(rendered, env, tmp_path)
    kubernetes_validate.validate(job, "1.32.0", strict=True)
    assert DNS_LABEL.fullmatch(job["metadata"]["name"]) and len(job["metadata"]["name"]) <= 63
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    # the engine fills ${containerName} with the worker image: it belongs in image, never in name
    assert DNS_LABEL.fullmatch(container["name"]) and len(container["name"]) <= 63, container["name"]
    worker = _engine_container(rendered, env)
    assert (
        container["image"]
        == resolve_env(worker, NS[env], _secrets(rendered, NS[env]))["HF_VAR_WORKER_CONTAINER"]
    )
    assert container["image"].endswith("hyperflowwms/montage-worker:v1.0.3")
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]
    assert pod["automountServiceAccountToken"] is False
    assert {"name": "work-dir", "persistentVolumeClaim": {"claimName": "work-dir"}} in pod["volumes"]
    assert job["metadata"]["labels"]["hyperflow.io/job"] == "true"
    assert (job["spec"]["backoffLimit"], pod["restartPolicy"]) == (0, "Never")
    assert "undefined" not in json.dumps(job), "a ${...} in the template that the engine does not know"


@pytest.mark.parametrize(
    ("env", "cpu", "memory", "limit", "ttl"),
    [("dev", "250m", "512Mi", "512Mi", 600), ("prd", "1", "2Gi", "4Gi", 3600)],
)
def test_job_sizes_and_ttl_come_from_config(
    stack: Any, env: str, cpu: str, memory: str, limit: str, ttl: int
) -> None:
    _, text = _template(stack(env), env)
    job = yaml.safe_load(text)
    assert job["spec"]["ttlSecondsAfterFinished"] == ttl
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}
    env_vars = resolve_env(_engine_container(stack(env), env), NS[env], _secrets(stack(env), NS[env]))
    assert (env_vars["HF_VAR_CPU_REQUEST"], env_vars["HF_VAR_MEM_REQUEST"]) == (cpu, memory)


# ---- 2. server mode runs what v1.5.7 accepts, and is probed where it listens ---------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def started_server(
    stack: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[dict[str, Any], int, list[dict]]]:
    env = request.param
    container = _engine_container(stack(env), env)
    values = resolve_env(container, NS[env], _secrets(stack(env), NS[env]))
    port = _free_port()  # the rendered port is 8080; another process on this machine may hold it
    values["PORT"] = str(port)
    assert NODE is not None
    proc = subprocess.Popen(
        [NODE, str(HARNESS), "hflow", *container["command"][1:]],
        env={"PATH": os.environ.get("PATH", ""), **values},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    events: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            events.extend(_events(line))
            if any(e["kind"] in ("listening", "exit") for e in events):
                break
        yield container, port, events
    finally:
        proc.kill()
        proc.wait(timeout=10)


@needs_node
@pytest.mark.parametrize("started_server", SERVER_ENVS, indirect=True)
def test_server_mode_command_is_what_the_engine_accepts_and_its_probes_reach_it(
    started_server: tuple[dict[str, Any], int, list[dict[str, Any]]],
) -> None:
    container, port, events = started_server
    assert container["command"][0] == "hflow"
    kinds = [e["kind"] for e in events]
    assert "exit" not in kinds, f"hflow rejected {container['command']}: {events}"
    [opts] = [e["opts"] for e in events if e["kind"] == "opts"]
    assert opts["start-server"] is True
    [listening] = [e for e in events if e["kind"] == "listening"]
    # common/wfRun.js binds 127.0.0.1 on $PORT: a Service or a kubelet probe on the pod IP cannot reach it
    assert (listening["address"], listening["port"]) == ("127.0.0.1", port)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PORT"] == "8080"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        spec = container[probe]
        assert set(spec) & {"httpGet", "tcpSocket", "grpc"} == set(), f"{probe} goes to the pod IP"
        command = spec["exec"]["command"]
        assert "8080" in command[-1] and "127.0.0.1" in command[-1]
        assert NODE is not None and command[0] == "node"  # the engine image is node:12-alpine
        probe_run = [NODE, *command[1:-1], command[-1].replace("8080", str(port))]
        assert subprocess.run(probe_run, timeout=10, check=False).returncode == 0, probe


@needs_node
def test_a_probe_fails_when_nothing_listens(stack: Any) -> None:
    command = _engine_container(stack("tst"), "tst")["readinessProbe"]["exec"]["command"]
    assert NODE is not None
    probe_run = [NODE, *command[1:-1], command[-1].replace("8080", str(_free_port()))]
    assert subprocess.run(probe_run, timeout=10, check=False).returncode == 1


@needs_node
def test_the_engine_rejects_host_and_port_options() -> None:
    """Why the old command could never run: v1.5.7's usage has no --host/--port."""
    events, output = run_engine(["hflow", "start-server", "--host", "0.0.0.0", "--port", "8080"], {})
    assert [e["code"] for e in events if e["kind"] == "exit"] == [1], output
    assert "hflow start-server [-p <plugin_module_name> ...]" in output


def test_server_mode_has_no_service_and_no_ingress_rule(stack: Any) -> None:
    for env in ("dev", *SERVER_ENVS):
        rendered = stack(env)
        assert [s["metadata"]["name"] for s in rendered.objects("Service", NS[env])] == ["redis"]
        policies = [p["metadata"]["name"] for p in rendered.objects("NetworkPolicy", NS[env])]
        assert "hyperflow-engine-allow-clients" not in policies


README_RUN = "kubectl -n hyperflow-<env> exec deploy/hyperflow-engine -- hflow run /work_dir"
README_SUBMIT = "kubectl -n hyperflow-<env> exec deploy/hyperflow-engine -- hflow run /work_dir --submit=http://127.0.0.1:8080"


@needs_node
def test_the_readme_commands_that_start_a_workflow_are_what_the_engine_accepts() -> None:
    readme = (ROOT / "README.md").read_text()
    assert README_RUN in readme and README_SUBMIT in readme
    args = README_RUN.split(" -- ")[1].split()[1:]
    events, output = run_engine(["hflow", *args], {})
    [run] = [e["opts"] for e in events if e["kind"] == "run"]
    assert run["<workflow_dir_or_file>"] == "/work_dir", output
    args = README_SUBMIT.split(" -- ")[1].split()[1:]
    events, output = run_engine(["hflow", *args], {})
    # server mode: hflow posts the run to the server in the same pod, which runs it (POST /apps)
    [post] = [e["request"] for e in events if e["kind"] == "axios"]
    assert post["url"] == "http://127.0.0.1:8080/apps" and post["method"] == "post", output
    assert post["data"]["<workflow_dir_or_file>"] == "/work_dir"


# ---- 5. a failed task stops the workflow ---------------------------------------------------------


@needs_node
@pytest.mark.parametrize("env", ["dev", "tst"])
def test_a_failed_task_stops_the_workflow_instead_of_hanging(stack: Any, env: str, tmp_path: Path) -> None:
    events, output = run_task(stack(env), env, 1, tmp_path)
    assert [e["code"] for e in events if e["kind"] == "exit"] == [1], output
    assert "stopping workflow" in output
    assert not [e for e in events if e["kind"] in ("callback", "completed")]


@needs_node
def test_a_successful_task_calls_back(stack: Any, tmp_path: Path) -> None:
    events, output = run_task(stack("prd"), "prd", 0, tmp_path)
    assert [e["kind"] for e in events if e["kind"] in ("completed", "callback", "exit")] == [
        "completed",
        "callback",
        "exit",
    ], output
    assert [e["code"] for e in events if e["kind"] == "exit"] == [0]


# ---- 6. RBAC: exactly what the engine calls ------------------------------------------------------

VERBS = {
    "create": "create",
    "read": "get",
    "list": "list",
    "delete": "delete",
    "patch": "patch",
    "replace": "update",
}
RESOURCES = {"Job": ("batch", "jobs"), "Pod": ("", "pods"), "PodLog": ("", "pods/log")}


def _rule_for(method: str) -> tuple[str, str, str]:
    match = re.fullmatch(r"(create|read|list|delete|patch|replace)Namespaced(\w+)", method)
    assert match, f"unknown client call {method}"
    group, resource = RESOURCES[match.group(2)]
    return group, resource, VERBS[match.group(1)]


@needs_node
@pytest.mark.parametrize("env", ["dev", "tst", "prd"])
def test_engine_role_grants_exactly_the_calls_the_engine_makes(stack: Any, env: str, tmp_path: Path) -> None:
    rendered = stack(env)
    # every Kubernetes client call site in the engine's k8sCommand path ...
    sources = "\n".join(p.read_text() for p in (ENGINE_DIR / "functions" / "kubernetes").glob("*.js"))
    static = set(re.findall(r"k8sApi\.(\w+)\(", sources))
    assert static == {"createNamespacedJob"}
    # ... and what a task really calls
    events, _ = run_task(rendered, env, 0, tmp_path)
    called = {(e["api"], e["method"]) for e in events if e["kind"] == "api"}
    assert called == {("BatchV1Api", "createNamespacedJob")}
    needed = {_rule_for(method) for _, method in called}
    role = rendered.one("Role", "hyperflow-engine", NS[env])
    granted = {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert granted == needed == {("batch", "jobs", "create")}
    binding = rendered.one("RoleBinding", "hyperflow-engine", NS[env])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "hyperflow-engine",
    }
    engine = {"kind": "ServiceAccount", "name": "hyperflow-engine", "namespace": NS[env]}
    assert binding["subjects"] == [engine]
    # nothing cluster-wide reaches the engine (the stack's ClusterRoleBindings belong to operators)
    assert not [b for b in rendered.objects("ClusterRoleBinding") if engine in b.get("subjects", [])]
    pod = _engine(rendered, env)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "hyperflow-engine"
    assert pod["automountServiceAccountToken"] is True, "the engine calls the API server"


# ---- 7. a changed template rolls the engine ------------------------------------------------------


def _render(env: str, config: dict[str, Any]) -> Stack:
    monitor = RecordingMonitor(FlowMocks())
    registrations = run_config(env, config, monitor=monitor)
    return Stack(env, registrations, monitor.stack_outputs())


def test_a_changed_job_template_gets_a_new_config_map_and_rolls_the_engine(stack: Any) -> None:
    before = stack("dev")
    config_map, text = _template(before, "dev")
    name = config_map["metadata"]["name"]
    assert name == "hyperflow-job-template-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    assert config_map["immutable"] is True

    def mounted(rendered: Stack) -> str:
        volumes = _engine(rendered, "dev")["spec"]["template"]["spec"]["volumes"]
        [volume] = [v for v in volumes if v["name"] == "job-template"]
        return str(volume["configMap"]["name"])

    assert mounted(before) == name
    config = copy.deepcopy(raw_stack_yaml("dev")["config"])
    config["flow-platform:hyperflow"]["worker"]["cpu"] = "300m"
    after = _render("dev", config)
    new_config_map, new_text = _template(after, "dev")
    assert new_text != text and new_config_map["metadata"]["name"] != name
    assert mounted(after) == new_config_map["metadata"]["name"], "the pod template changes: the engine rolls"


# ---- 8. redis: auth, a memory bound, persistence; tasks get the credentials ---------------------


@needs_node
@pytest.mark.parametrize("env", ["dev", "prd"])
def test_the_filled_task_command_hands_the_executor_the_password(
    stack: Any, env: str, tmp_path: Path
) -> None:
    rendered = stack(env)
    job = _filled_job(rendered, env, tmp_path)
    [container] = job["spec"]["template"]["spec"]["containers"]
    values = resolve_env(container, NS[env], _secrets(rendered, NS[env]))
    # a stand-in hflow-job-execute: parses its arguments with the executor's own docopt usage
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "hflow-job-execute"
    docopt = ENGINE_DIR / "node_modules" / "docopt"
    fake.write_text(
        f"#!{NODE}\n"
        f"const opts = require({json.dumps(str(docopt))}).docopt({json.dumps(EXECUTOR_USAGE)});\n"
        "console.log(JSON.stringify(opts));\n"
    )
    fake.chmod(0o755)
    shell = shutil.which("sh")
    assert shell is not None and container["command"][0] == "/bin/sh"
    result = subprocess.run(
        [shell, *container["command"][1:]],
        env={"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", **values},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    opts = json.loads(result.stdout)
    assert opts["<redisUrl>"] == f"redis://:{TEST_PASSWORD}@redis:6379"
    assert opts["-a"] is True and opts["<taskId>"] == ["wf:1-1:task-1"]


@needs_node
@pytest.mark.parametrize("env", ["dev", "tst"])
def test_the_engine_connects_to_redis_with_the_password(stack: Any, env: str) -> None:
    container = _engine_container(stack(env), env)
    values = resolve_env(container, NS[env], _secrets(stack(env), NS[env]))
    events, output = run_engine(["hflow", "run", "/work_dir"], values)
    [client] = [e["options"] for e in events if e["kind"] == "redis"]
    assert client == {"url": f"redis://:{TEST_PASSWORD}@redis:6379"}, output
    refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if e["name"] == "REDIS_PASSWORD"]
    assert refs == [{"name": "hyperflow-redis", "key": "password"}]


@needs_node
@pytest.mark.parametrize("env", ["dev", "prd"])
def test_node_redis_reads_the_password_from_the_url_the_engine_and_tasks_get(stack: Any, env: str) -> None:
    """node-redis 3 (the engine's, and the executor's ^3.1) sends AUTH <password> for ``redis://:pw@``."""
    url = resolve_env(_engine_container(stack(env), env), NS[env], _secrets(stack(env), NS[env]))["REDIS_URL"]
    create = ENGINE_DIR / "node_modules" / "redis" / "lib" / "createClient.js"
    script = (
        f"const create = require({json.dumps(str(create))});"
        "const forms = [create({url: process.argv[1]}), create(process.argv[1])];"
        "console.log(JSON.stringify(forms.map(o => [o.password, o.user || null, o.host, o.port])));"
    )
    assert NODE is not None
    result = subprocess.run(
        [NODE, "-e", script, url], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[TEST_PASSWORD, None, "redis", "6379"]] * 2


@pytest.mark.parametrize(("env", "limit", "persistent"), [("dev", "256Mi", False), ("prd", "1Gi", True)])
def test_redis_has_auth_a_memory_bound_and_persistence_where_asked(
    stack: Any, env: str, limit: str, persistent: bool
) -> None:
    rendered = stack(env)
    secret = rendered.one("Secret", "hyperflow-redis", NS[env])
    assert set(secret["stringData"]) == {"password", "auth.conf"}
    conf = rendered.one("ConfigMap", "redis-config", NS[env])["data"]["redis.conf"]
    lines = conf.splitlines()
    assert "include /etc/redis/auth/auth.conf" in lines
    assert f"maxmemory {maxmemory_bytes(limit)}" in lines and maxmemory_bytes(limit) < 2**20 * int(
        limit[:-2]
    ) * (1024 if limit.endswith("Gi") else 1)
    assert "maxmemory-policy noeviction" in lines
    assert f"appendonly {'yes' if persistent else 'no'}" in lines
    redis = rendered.one("Deployment", "redis", NS[env])["spec"]["template"]["spec"]
    [container] = redis["containers"]
    assert container["command"] == ["redis-server", "/etc/redis/conf/redis.conf"]
    assert container["resources"]["limits"]["memory"] == limit
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in redis["volumes"]}
    assert volumes[mounts["/etc/redis/auth"]]["secret"]["secretName"] == "hyperflow-redis"
    assert volumes[mounts["/etc/redis/conf"]]["configMap"]["name"] == "redis-config"
    data = volumes[mounts["/data"]]
    if persistent:
        assert data == {"name": "data", "persistentVolumeClaim": {"claimName": "redis-data"}}
        claim = rendered.by_name("hyperflow-redis-data")
        assert claim.options.get("protect") is True and claim.options.get("retain_on_delete") is True
    else:
        assert "emptyDir" in data
        assert not [
            c
            for c in rendered.objects("PersistentVolumeClaim", NS[env])
            if c["metadata"]["name"] == "redis-data"
        ]


def test_redis_is_reachable_only_from_the_engine_and_job_pods(stack: Any) -> None:
    prd = stack("prd")
    policy = prd.one("NetworkPolicy", "redis-allow-engine-and-jobs", NS["prd"])["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "redis", "deployment": "prd"}}
    [rule] = policy["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "hyperflow-engine", "deployment": "prd"}}},
        {"podSelector": {"matchLabels": {"deployment": "prd", "hyperflow.io/job": "true"}}},
    ]
    assert rule["ports"] == [{"port": 6379, "protocol": "TCP"}]
    redis = prd.one("Deployment", "redis", NS["prd"])["spec"]["template"]["spec"]
    assert redis["securityContext"]["runAsUser"] == 999
    [container] = redis["containers"]
    assert container["readinessProbe"]["tcpSocket"]["port"] == "redis"
    api = prd.one("NetworkPolicy", "hyperflow-engine-allow-api-server", NS["prd"])["spec"]["egress"][0]
    assert api == {"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}], "ports": [{"port": 443, "protocol": "TCP"}]}


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short", "at least 16 characters"), ("has a space in it, sixteen+", "at least 16 characters")],
)
def test_a_weak_redis_password_is_a_config_error(bad_config: Any, password: str, fragment: str) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["flow-platform:hyperflow"]["redis"]["password"] = password

    result = bad_config("tst", mutate, secret_keys=["flow-platform:hyperflow"])
    assert "flow-platform:hyperflow.redis.password" in result.message and fragment in result.message
    assert password not in result.message, "the password is a secret"
    assert result.registered == []


def test_a_missing_redis_password_is_a_config_error(bad_config: Any) -> None:
    result = bad_config("dev", lambda c: c["flow-platform:hyperflow"]["redis"].pop("password"))
    assert "flow-platform:hyperflow.redis.password" in result.message and result.registered == []


# ---- 3 and 9. in-cluster NFS: userspace Ganesha, writable by the clients, never in prd -----------


def test_in_cluster_nfs_is_an_unprivileged_ganesha_writable_by_the_clients(stack: Any) -> None:
    dev = stack("dev")
    server = dev.one("Deployment", "nfs-server", "hyperflow-nfs-dev")["spec"]["template"]["spec"]
    [container] = server["containers"]
    context = container["securityContext"]
    assert context["privileged"] is False and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"], "add": sorted(GANESHA_CAPABILITIES)}
    assert "SYS_ADMIN" not in GANESHA_CAPABILITIES and len(GANESHA_CAPABILITIES) <= 5
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["command"][0] == "ganesha.nfsd" and "-F" in container["command"]
    config_path = container["command"][container["command"].index("-f") + 1]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in server["volumes"]}
    config_volume = next(n for n, p in mounts.items() if config_path.startswith(p + "/"))
    config_map = dev.one("ConfigMap", volumes[config_volume]["configMap"]["name"], "hyperflow-nfs-dev")
    conf = config_map["data"][config_path.rsplit("/", 1)[1]]
    # the clients (engine, job pods, data staging) all run as 1000:1000 ...
    job = yaml.safe_load(_template(dev, "dev")[1])["spec"]["template"]["spec"]["securityContext"]
    staging = dev.one("Job", "data-staging", NS["dev"])["spec"]["template"]["spec"]["securityContext"]
    uid, gid = job["runAsUser"], job["runAsGroup"]
    assert (staging["runAsUser"], staging["runAsGroup"]) == (uid, gid) == (1000, 1000)
    # ... so every client is squashed to them, and the export root is group-owned by gid
    assert conf == ganesha_config(uid, gid)
    assert re.search(r"Squash = All_Squash;\s+Anonymous_Uid = 1000;\s+Anonymous_Gid = 1000;", conf)
    assert server["securityContext"]["fsGroup"] == gid
    export = next(n for n, p in mounts.items() if p == re.search(r"Path = (\S+);", conf).group(1))  # type: ignore[union-attr]
    assert volumes[export]["persistentVolumeClaim"]["claimName"] == "nfs-export"
    pv = dev.one("PersistentVolume", "hyperflow-dev-work-dir")["spec"]
    pseudo = re.search(r"Pseudo = (\S+);", conf).group(1)  # type: ignore[union-attr]
    assert pv["nfs"] == {"server": "<computed:hyperflow-nfs-server-service.spec.clusterIP>", "path": pseudo}
    assert "Protocols = 4;" in conf and pv["mountOptions"] == ["nfsvers=4.1"]
    service = dev.one("Service", "nfs-server", "hyperflow-nfs-dev")["spec"]
    assert [p["port"] for p in service["ports"]] == [2049]
    rule = dev.one("NetworkPolicy", "nfs-server-allow-node-mounts", "hyperflow-nfs-dev")["spec"]["ingress"][0]
    assert rule == {
        "from": [{"ipBlock": {"cidr": "10.10.0.0/16"}}],
        "ports": [{"port": 2049, "protocol": "TCP"}],
    }
    claim = dev.one("PersistentVolumeClaim", "work-dir", "hyperflow-dev")["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"] and claim["volumeName"] == "hyperflow-dev-work-dir"
    assert (
        dev.one("Namespace", "hyperflow-dev")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )


def test_the_nfs_policy_exception_is_exactly_what_the_server_adds() -> None:
    config = json.loads((ROOT / "policy" / "config" / "dev.json").read_text())
    [entry] = [
        e
        for e in config["pod-security-context"]["exceptions"]
        if (e["namespace"], e["name"]) == ("hyperflow-nfs-dev", "nfs-server")
    ]
    assert sorted(entry["allow"]) == sorted(
        [*(f"capability:{c}" for c in GANESHA_CAPABILITIES), "run-as-root"]
    )
    assert "privileged" not in entry["allow"]


def test_efs_storage_has_no_nfs_server(stack: Any) -> None:
    for env in SERVER_ENVS:
        rendered = stack(env)
        assert not rendered.objects("Deployment", f"hyperflow-nfs-{env}")
        for deployment in rendered.objects("Deployment"):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                assert not (container.get("securityContext") or {}).get("privileged"), deployment["metadata"]
        claim = rendered.one("PersistentVolumeClaim", "work-dir", NS[env])["spec"]
        assert claim["volumeName"] == f"{NS[env]}-work-dir"
        pv = rendered.one("PersistentVolume", f"{NS[env]}-work-dir")["spec"]
        assert pv["csi"]["driver"] == "efs.csi.aws.com"


def test_in_cluster_nfs_is_a_config_error_in_prd(bad_config: Any) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["flow-platform:hyperflow"]["storage"] = copy.deepcopy(
            raw_stack_yaml("dev")["config"]["flow-platform:hyperflow"]["storage"]
        )

    result = bad_config("prd", mutate)
    assert "flow-platform:hyperflow.storage.mode" in result.message
    assert "not allowed in prd" in result.message and "use 'efs'" in result.message
    assert result.registered == []


# ---- 4. one-shot jobs: only what can run at deploy time runs at deploy time ----------------------


def test_jobs_that_need_a_finished_workflow_are_not_run_by_pulumi_up(stack: Any) -> None:
    assert [j["metadata"]["name"] for j in stack("dev").objects("Job", NS["dev"])] == ["data-staging"]
    tst = stack("tst")
    assert tst.objects("Job", NS["tst"]) == []
    assert stack("prd").objects("Job", NS["prd"]) == []
    crons = {c["metadata"]["name"]: c for c in tst.objects("CronJob", NS["tst"])}
    assert sorted(crons) == ["log-parser", "viz-trace"]
    for cron in crons.values():
        kubernetes_validate.validate(cron, "1.32.0", strict=True)
        assert cron["spec"]["suspend"] is True, "started by hand: kubectl create job --from=cronjob/..."
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["image"].startswith("111111111111.dkr.ecr.")
    # log-parser:v1.0.1 ships /parser.py, no hflow-log-parser (hyperflow-k8s-deployment charts/parser)
    [parser] = crons["log-parser"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = " ".join(parser["command"])
    assert "python3 /parser.py -s /work_dir/logs-hf -d /work_dir/parsed" in script
    assert "hflow-log-parser" not in script


def test_worker_backoff_limit_other_than_zero_is_a_config_error(bad_config: Any) -> None:
    def mutate(config: dict[str, Any]) -> None:
        config["flow-platform:hyperflow"]["worker"]["backoffLimit"] = 2

    result = bad_config("prd", mutate)
    assert "flow-platform:hyperflow.worker.backoffLimit" in result.message
    assert "must be 0 with HyperFlow v1.5.7" in result.message and result.registered == []


# ---- the engine version under test is the one deployed -------------------------------------------


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_the_vendored_engine_is_the_deployed_version(env: str) -> None:
    engine = json.loads((ENGINE_DIR / "package.json").read_text())
    image = raw_stack_yaml(env)["config"]["flow-platform:hyperflow"]["engine"]["image"]
    assert image == {"repository": "hyperflowwms/hyperflow", "tag": f"v{engine['version']}"}
