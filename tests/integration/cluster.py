"""What the integration tier does with a rendered stack on a real API server.

Apply order, admission (server-side apply, dry run), the objects made real so that RBAC and quota
can be asked about, the pods workloads would create, and the RBAC needs of each service account.
"""

import copy
import heapq
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from flow_platform_stacks.tooling.harness import Registration

from .apiserver import Client, Response

CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "crds"
PSA_WARNING = "would violate PodSecurity"
EXCEPTION_ANNOTATION = "flow-platform/pod-security-exception"
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
# API groups a v1.32 API server serves without CRDs (kubectl api-versions on a bare server)
BUILTIN_GROUPS = {
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
}
# Objects created for real (not dry run): what authorization, quota and priority admission look at
# (the Priority plugin rejects a pod naming a PriorityClass that does not exist).
REAL_KINDS = (
    "Namespace",
    "PriorityClass",
    "ServiceAccount",
    "ClusterRole",
    "Role",
    "ClusterRoleBinding",
    "RoleBinding",
    "LimitRange",
    "ResourceQuota",
)


def where(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    return f"{obj['kind']} {namespace + '/' if namespace else ''}{metadata.get('name')}"


# --- CRDs ----------------------------------------------------------------------------------------


def crd_file_for(url: str) -> Path:
    """Where the repository keeps its copy of a CRD the stack installs from
    ``.../release-X/.../crds/<file>`` (the file may be absent: only used kinds are copied)."""
    release = next((p for p in url.split("/") if p.startswith("release-")), None)
    if release is None or "flink-kubernetes-operator" not in url:
        raise LookupError(f"no local copy known for CRD {url}")
    return CRD_DIR / f"flink-kubernetes-operator-{release.removeprefix('release-')}" / url.rsplit("/", 1)[1]


def _group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj["apiVersion"])
    return api_version.split("/")[0] if "/" in api_version else ""


def _crd_kind(url: str) -> tuple[str, str]:
    """(group, plural) of a CRD file named ``<plural>.<group>-<version>.yml``."""
    stem = url.rsplit("/", 1)[1].rsplit("-", 1)[0]
    plural, _, group = stem.partition(".")
    return group, plural


PREREQUISITE_CRDS = {
    # kube-prometheus-stack (a cluster prerequisite of `monitoring`) installs it, not the stack
    ("monitoring.coreos.com", "PrometheusRule"): CRD_DIR
    / "prometheus-operator-v0.93.0"
    / "monitoring.coreos.com_prometheusrules.yaml",
}
"""Custom kinds the cluster's own add-ons provide: the tier installs the repository's copy."""


def stack_crds(stacks: Iterable[Iterable[Registration]]) -> list[dict[str, Any]]:
    """The CRDs the stacks install (CustomResourceDefinition resources, or ``kubernetes:yaml/v2:
    ConfigFile`` by URL from the repository's copies) for the custom kinds their objects use. A used
    kind no stack installs is an error."""
    urls: dict[tuple[str, str], str] = {}
    used: set[tuple[str, str]] = set()
    crds: dict[str, dict[str, Any]] = {}
    for registrations in stacks:
        for reg in registrations:
            if reg.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
                crds[reg.inputs["metadata"]["name"]] = dict(reg.inputs)
            elif reg.type == "kubernetes:yaml/v2:ConfigFile":
                urls[_crd_kind(reg.inputs["file"])] = reg.inputs["file"]
            elif _is_object(reg) and _group(reg.inputs) not in BUILTIN_GROUPS:
                used.add((_group(reg.inputs), reg.inputs["kind"]))
    for group, kind in sorted(used):
        if any(c["spec"]["group"] == group and c["spec"]["names"]["kind"] == kind for c in crds.values()):
            continue
        if (group, kind) in PREREQUISITE_CRDS:
            crd = yaml.safe_load(PREREQUISITE_CRDS[group, kind].read_text())
            crds[crd["metadata"]["name"]] = crd
            continue
        matches = [url for (g, _), url in urls.items() if g == group]
        if not matches:
            raise LookupError(f"{kind} ({group}) is used, but no stack installs its CRD")
        for url in matches:
            path = crd_file_for(url)
            if not path.is_file():
                continue
            crd = yaml.safe_load(path.read_text())
            if crd["spec"]["names"]["kind"] == kind:
                crds[crd["metadata"]["name"]] = crd
        if not any(c["spec"]["group"] == group and c["spec"]["names"]["kind"] == kind for c in crds.values()):
            raise LookupError(f"the CRD of {kind} ({group}) has no copy under {CRD_DIR}")
    return list(crds.values())


def install_crds(client: Client, crds: Iterable[Mapping[str, Any]]) -> None:
    names = []
    for crd in crds:
        client.must(f"apply {where(crd)}", client.apply(crd, dry_run=False))
        names.append(crd["metadata"]["name"])
    for name in names:
        client.wait_for_crd(name)


# --- order ---------------------------------------------------------------------------------------


def _is_object(reg: Registration) -> bool:
    return reg.custom and reg.type.startswith("kubernetes:") and "apiVersion" in reg.inputs


def dependencies(registrations: list[Registration]) -> dict[str, set[str]]:
    """Object URN -> the object URNs it waits for, as Pulumi orders them.

    ``dependsOn`` (explicit, and the implicit ones of output-valued inputs) of a component means
    all of the component's children; dependencies that are not Kubernetes objects (AWS, charts,
    CRD files) are not applied here and drop out.
    """
    by_urn = {r.urn: r for r in registrations}
    children: dict[str, list[str]] = defaultdict(list)
    for reg in registrations:
        if reg.parent:
            children[reg.parent].append(reg.urn)

    def expand(urn: str, seen: frozenset[str] = frozenset()) -> set[str]:
        reg = by_urn.get(urn)
        if reg is None or urn in seen:
            return set()
        if _is_object(reg):
            return {urn}
        if not reg.custom:
            return set().union(*(expand(c, seen | {urn}) for c in children[urn]))
        return set()

    return {
        r.urn: set().union(*(expand(d) for d in r.options["depends_on"])) - {r.urn}
        for r in registrations
        if _is_object(r)
    }


def transitive(deps: Mapping[str, set[str]], urn: str) -> set[str]:
    out: set[str] = set()
    todo = list(deps.get(urn, ()))
    while todo:
        dep = todo.pop()
        if dep not in out:
            out.add(dep)
            todo.extend(deps.get(dep, ()))
    return out


def apply_order(registrations: list[Registration]) -> list[Registration]:
    """Kubernetes objects in the order the stack declares: Namespaces first, then dependencies
    before dependents (ties in URN order, so the order is stable)."""
    deps = dependencies(registrations)
    by_urn = {r.urn: r for r in registrations if r.urn in deps}
    waiting = {urn: set(d) for urn, d in deps.items()}
    dependents: dict[str, list[str]] = defaultdict(list)
    for urn, ds in deps.items():
        for dep in ds:
            dependents[dep].append(urn)

    def key(urn: str) -> tuple[int, str]:
        return (0 if by_urn[urn].inputs["kind"] == "Namespace" else 1, urn)

    ready = [key(u) for u, d in waiting.items() if not d]
    heapq.heapify(ready)
    order: list[Registration] = []
    while ready:
        _, urn = heapq.heappop(ready)
        order.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting[dependent].discard(urn)
            if not waiting[dependent]:
                heapq.heappush(ready, key(dependent))
    if len(order) != len(deps):
        stuck = sorted(set(deps) - {r.urn for r in order})
        raise ValueError(f"dependency cycle among {stuck}")
    return order


# --- admission -----------------------------------------------------------------------------------


def exception_namespaces(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    """Namespaces whose documented Pod Security exception raises ``enforce`` above restricted.

    Their ``warn`` level stays restricted (so reviewers see what the exception admits); those
    warnings are expected, and the pods are checked against ``enforce`` when they are created.
    """
    out = set()
    for obj in objects:
        metadata = obj.get("metadata") or {}
        if (
            obj.get("kind") == "Namespace"
            and (metadata.get("annotations") or {}).get(EXCEPTION_ANNOTATION, "").strip()
            and (metadata.get("labels") or {}).get(ENFORCE_LABEL) in ("baseline", "privileged")
        ):
            out.add(metadata["name"])
    return out


def admission_problems(client: Client, objects: list[dict[str, Any]]) -> list[str]:
    """Apply Namespaces for real and everything else server-side with a dry run, in the order
    given; every rejection and every warning is a problem, except Pod Security warnings in a
    namespace with a documented exception."""
    exceptions = exception_namespaces(objects)
    problems = []
    for obj in objects:
        real = obj["kind"] == "Namespace"
        try:
            response = client.apply(obj, dry_run=not real)
        except LookupError as error:
            problems.append(f"{where(obj)}: {error}")
            continue
        problems += response_problems(obj, response, exceptions)
    return problems


def response_problems(obj: Mapping[str, Any], response: Response, exceptions: set[str]) -> list[str]:
    """A rejection, or the warnings that count (Pod Security ones do not in ``exceptions``)."""
    if not response.ok:
        return [f"{where(obj)}: HTTP {response.status}: {response.message}"]
    namespace = (obj.get("metadata") or {}).get("namespace")
    return [
        f"{where(obj)}: warning: {warning}"
        for warning in response.warnings
        if not (warning.startswith(PSA_WARNING) and namespace in exceptions)
    ]


# --- real objects for RBAC and quota ---------------------------------------------------------------


def wait_for_rbac(client: Client, objects: Iterable[Mapping[str, Any]], timeout: float = 10.0) -> None:
    """Until the authorizer (which reads RBAC through a watch cache) sees every binding's rules."""
    roles = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects if o["kind"] == "Role"
    }
    deadline = time.monotonic() + timeout
    for binding in objects:
        if binding["kind"] != "RoleBinding" or binding["roleRef"]["kind"] != "Role":
            continue
        namespace = binding["metadata"]["namespace"]
        role = roles.get((namespace, binding["roleRef"]["name"]))
        accounts = [s for s in binding.get("subjects", []) if s["kind"] == "ServiceAccount"]
        if role is None or not accounts:
            continue
        user, groups = service_account_user(accounts[0].get("namespace", namespace), accounts[0]["name"])
        for rule in role.get("rules", []):
            resource, _, subresource = rule["resources"][0].partition("/")
            # a rule limited to resourceNames allows nothing unnamed: ask for the first name it lists
            name = next(iter(rule.get("resourceNames", [])), "")
            while not client.can(
                user, groups, rule["verbs"][0], resource, namespace, rule["apiGroups"][0], subresource, name
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the authorizer never saw {where(binding)} -> {where(role)}")
                time.sleep(0.05)


def make_real(client: Client, objects: list[dict[str, Any]]) -> None:
    """Create what authorization and quota admission read, as a controller manager would leave it.

    Without a controller manager nobody creates each namespace's ``default`` ServiceAccount (pods
    without ``serviceAccountName`` need it) or fills a ResourceQuota's ``status`` (quota admission
    ignores a quota while ``status.hard`` is empty), so do both here, as those controllers would.
    """
    namespaces = sorted({o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"})
    for kind in REAL_KINDS:
        for obj in objects:
            if obj["kind"] == kind:
                client.must(f"create {where(obj)}", client.apply(obj, dry_run=False))
    for namespace in namespaces:
        default = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace},
        }
        if client.get(default).status == 404:
            client.must(f"create {where(default)}", client.create(default))
    for obj in objects:
        if obj["kind"] == "ResourceQuota":
            current = client.must(f"read {where(obj)}", client.get(obj)).body
            if not (current.get("status") or {}).get("hard"):
                hard = current["spec"]["hard"]
                current["status"] = {"hard": hard, "used": dict.fromkeys(hard, "0")}
                client.must(
                    f"status of {where(obj)}",
                    client.request("PUT", client.path_of(obj) + "/status", current),
                )
    wait_for_quota(client, objects)
    wait_for_rbac(client, objects)


def _millicores(quantity: str) -> int:
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def wait_for_quota(client: Client, objects: list[dict[str, Any]], timeout: float = 15.0) -> None:
    """Until quota admission (which reads quotas through a watch cache) sees each quota's filled
    status: before that it does not enforce the quota at all, and every pod is admitted.

    The probe is a dry-run pod whose containers each fit the LimitRange but together ask for more
    CPU than the quota holds; it is admitted until the quota is enforced.
    """
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    deadline = time.monotonic() + timeout
    for quota in (o for o in objects if o["kind"] == "ResourceQuota"):
        namespace = quota["metadata"]["namespace"]
        hard = quota["spec"]["hard"].get("requests.cpu")
        if hard is None:
            continue
        limits = [
            item
            for o in objects
            if o["kind"] == "LimitRange" and o["metadata"]["namespace"] == namespace
            for item in o["spec"]["limits"]
            if item["type"] == "Container"
        ]
        each = min([_millicores(i["max"]["cpu"]) for i in limits if "cpu" in i.get("max", {})] or [1000])
        count = _millicores(hard) // each + 1
        container = {
            "image": "registry.k8s.io/pause:3.10",
            "securityContext": restricted,
            "resources": {"requests": {"cpu": f"{each}m", "memory": "1Mi"}, "limits": {"memory": "1Mi"}},
        }
        probe = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "quota-probe", "namespace": namespace},
            "spec": {
                "automountServiceAccountToken": False,
                "containers": [{"name": f"probe-{i}", **container} for i in range(count)],
            },
        }
        while True:
            response = client.create(probe, dry_run=True)
            if response.status == 403 and "exceeded quota" in response.message:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{where(quota)} is not enforced: {response.status} {response.message}")
            time.sleep(0.05)


# --- pods the workloads would create ------------------------------------------------------------


def _flink_memory(value: str) -> str:
    """Flink's MemorySize text (``4096m`` = 4096 MiB, ``2g``) as a Kubernetes quantity."""
    units = {
        "b": "",
        "k": "Ki",
        "kb": "Ki",
        "m": "Mi",
        "mb": "Mi",
        "g": "Gi",
        "gb": "Gi",
        "t": "Ti",
        "tb": "Ti",
    }
    text = str(value).strip().lower().replace(" ", "")
    number = text.rstrip("kmgtb")
    return f"{number}{units[text[len(number) :] or 'b']}"


def _flink_pods(obj: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The JobManager and TaskManager pods the Flink operator (native mode) creates.

    Requests = limits = ``resource.cpu`` / ``resource.memory`` (flink-kubernetes-operator 1.15
    FlinkConfigBuilder -> Flink's KubernetesUtils.getResourceRequirements with the default limit
    factors of 1.0), on the spec's pod template, with the spec's service account.
    """
    spec = obj["spec"]
    pods = []
    for role in ("jobManager", "taskManager"):
        part = spec.get(role) or {}
        template = copy.deepcopy(spec.get("podTemplate") or {})
        template = _merge_template(template, part.get("podTemplate") or {})
        pod_spec = template.setdefault("spec", {})
        resources = {
            "cpu": str(part["resource"]["cpu"]),
            "memory": _flink_memory(part["resource"]["memory"]),
        }
        containers = pod_spec.setdefault("containers", [])
        main = next((c for c in containers if c.get("name") == "flink-main-container"), None)
        if main is None:
            main = {"name": "flink-main-container"}
            containers.insert(0, main)
        main.setdefault("image", spec["image"])
        main["resources"] = {"requests": resources, "limits": dict(resources)}
        pod_spec["serviceAccountName"] = spec.get("serviceAccount", "default")
        replicas = int(part.get("replicas") or 1)
        pods.extend((f"{role.lower()}-{i}", copy.deepcopy(template)) for i in range(replicas))
    return pods


def _merge_template(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The operator's pod template merge, enough for resources: containers merge by name."""
    for key, value in override.items():
        if key == "containers" and isinstance(value, list):
            by_name = {c.get("name"): c for c in base.get("containers", [])}
            for container in value:
                by_name.setdefault(container.get("name"), {}).update(container)
            base["containers"] = list(by_name.values())
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _merge_template(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _running(job: Mapping[str, Any]) -> int:
    """Pods a Job runs at once: ``parallelism``, at most ``completions`` (both default to 1)."""
    parallelism = int(job.get("parallelism", 1))
    completions = job.get("completions")
    return parallelism if completions is None else min(parallelism, int(completions))


def workload_pods(objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One Pod per replica each workload runs at once, from its rendered pod template."""
    pods = []
    for obj in objects:
        kind, spec = obj["kind"], obj.get("spec") or {}
        templates: list[tuple[str, Mapping[str, Any]]]
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = int(spec.get("replicas", 1))
            templates = [(str(i), spec["template"]) for i in range(replicas)]
        elif kind == "Job":
            templates = [(str(i), spec["template"]) for i in range(_running(spec))]
        elif kind == "CronJob":
            job = spec["jobTemplate"]["spec"]
            assert spec.get("concurrencyPolicy") in ("Forbid", "Replace"), f"{where(obj)} may overlap runs"
            templates = [(str(i), job["template"]) for i in range(_running(job))]
        elif kind == "FlinkDeployment":
            templates = list(_flink_pods(obj))
        else:
            continue
        for suffix, template in templates:
            metadata = template.get("metadata") or {}
            pods.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{obj['metadata']['name']}-{suffix}".lower(),
                        "namespace": obj["metadata"]["namespace"],
                        "labels": dict(metadata.get("labels") or {}),
                    },
                    "spec": copy.deepcopy(dict(template["spec"])),
                }
            )
    return pods


# --- RBAC ------------------------------------------------------------------------------------------

Access = tuple[str, str, str]  # (verb, "group/resource[/subresource]", namespace or "" for cluster scope)


def service_account_user(namespace: str, name: str) -> tuple[str, list[str]]:
    return (
        f"system:serviceaccount:{namespace}:{name}",
        ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
    )


def dangerous(namespace: str, other_namespace: str) -> list[Access]:
    """What no workload service account of ours may do."""
    return [
        ("get", "/secrets", namespace),
        ("list", "/secrets", namespace),
        ("watch", "/secrets", namespace),
        ("create", "/pods/exec", namespace),
        ("create", "/pods/attach", namespace),
        ("create", "/pods/portforward", namespace),
        ("create", "/serviceaccounts/token", namespace),
        ("create", "rbac.authorization.k8s.io/roles", namespace),
        ("create", "rbac.authorization.k8s.io/rolebindings", namespace),
        ("escalate", "rbac.authorization.k8s.io/roles", namespace),
        ("bind", "rbac.authorization.k8s.io/roles", namespace),
        ("patch", "/namespaces", ""),
        ("get", "/pods", other_namespace),
        ("create", "/pods", other_namespace),
        ("create", "batch/jobs", other_namespace),
        ("get", "/secrets", "kube-system"),
        ("list", "/pods", ""),
        ("list", "/namespaces", ""),
        ("list", "/nodes", ""),
        ("create", "rbac.authorization.k8s.io/clusterrolebindings", ""),
        ("impersonate", "/users", ""),
    ]


def rbac_findings(
    client: Client, namespace: str, name: str, needs: Iterable[Access], other_namespace: str
) -> list[str]:
    """SubjectAccessReviews: every need allowed, every dangerous access denied."""
    user, groups = service_account_user(namespace, name)
    findings = []
    for expected, accesses in ((True, needs), (False, dangerous(namespace, other_namespace))):
        for verb, target, ns in accesses:
            group, _, rest = target.partition("/")
            resource, _, subresource = rest.partition("/")
            allowed = client.can(user, groups, verb, resource, ns or None, group, subresource)
            if allowed != expected:
                state = "allowed" if allowed else "denied"
                findings.append(f"{namespace}/{name}: {verb} {target} in {ns or 'cluster scope'} is {state}")
    return findings
