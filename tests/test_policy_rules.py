"""Each policy with a violating and a compliant input; exceptions; unknown values; config files."""

import copy
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))
from flow_policies import aws, cluster, stack, workloads
from flow_policies.core import UNKNOWN, Resource
from flow_policies.pack import RULES

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def good_pod() -> dict[str, Any]:
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1.2.3",
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "privileged": False,
                    "readOnlyRootFilesystem": True,
                },
                "readinessProbe": {"tcpSocket": {"port": 80}},
                "livenessProbe": {"tcpSocket": {"port": 80}},
            }
        ],
    }


def deployment(pod: dict[str, Any] | None = None, name: str = "app", namespace: str = "team") -> Resource:
    props = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": pod or good_pod()}},
    }
    return Resource(DEPLOYMENT, name, props, f"urn:{name}")


def mutate(path: str, value: Any) -> dict[str, Any]:
    pod = good_pod()
    node: Any = pod
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[parts[-1]] = value
    return pod


def test_a_compliant_workload_passes_every_workload_rule() -> None:
    config = {
        "allowedRegistries": ["123456789012.dkr.ecr.us-west-2.amazonaws.com/"],
        "maxCpu": "4",
        "maxMemory": "8Gi",
    }
    for rule in (
        workloads.resources,
        workloads.security_context,
        workloads.no_host_path,
        workloads.images,
        workloads.probes,
        workloads.service_account_token,
        workloads.read_only_root_filesystem,
    ):
        assert rule(deployment(), config) == [], rule.__name__


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (
            "containers.0.resources",
            {"requests": {"cpu": "1", "memory": "1Gi"}},
            "limits.memory: no memory limit",
        ),
        ("containers.0.resources", {"limits": {"memory": "1Gi"}}, "requests.cpu: no cpu request"),
        (
            "containers.0.resources",
            {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "2Gi"}},
            "request 4Gi is above the limit 2Gi",
        ),
        (
            "containers.0.resources",
            {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi", "cpu": "2"}},
            "a CPU limit throttles the workload",
        ),
        (
            "containers.0.resources",
            {"requests": {"cpu": "16", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
            "16 is above this environment's maximum",
        ),
    ],
)
def test_pod_resources_violations(path: str, value: Any, fragment: str) -> None:
    problems = workloads.resources(deployment(mutate(path, value)), {"maxCpu": "8"})
    assert any(fragment in p for p in problems), problems
    assert all(
        p.startswith("Deployment team/app: spec.template.spec.containers[0].resources") for p in problems
    )


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("containers.0.securityContext.privileged", True, "runs privileged"),
        ("containers.0.securityContext.allowPrivilegeEscalation", True, "privilege escalation is allowed"),
        ("containers.0.securityContext.capabilities", {"drop": ["NET_RAW"]}, "does not drop ALL"),
        (
            "containers.0.securityContext.capabilities",
            {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
            "adds SYS_ADMIN",
        ),
        ("securityContext", {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}, "runs as UID 0"),
        ("securityContext", {"runAsNonRoot": True}, "seccomp profile is unset"),
        ("hostNetwork", True, "shares a host namespace"),
        ("containers.0.ports", [{"containerPort": 80, "hostPort": 80}], "binds host port 80"),
    ],
)
def test_security_context_violations(path: str, value: Any, fragment: str) -> None:
    problems = workloads.security_context(deployment(mutate(path, value)), {})
    assert any(fragment in p for p in problems), problems


def test_an_exception_allows_exactly_its_allowance_for_exactly_its_workload() -> None:
    pod = mutate("containers.0.securityContext.capabilities", {"drop": ["ALL"], "add": ["NET_ADMIN"]})
    pod["securityContext"]["runAsUser"] = 0
    pod["securityContext"]["runAsNonRoot"] = False
    config = {
        "exceptions": [
            {
                "namespace": "lic",
                "name": "flexlmserver",
                "allow": ["capability:NET_ADMIN", "run-as-root"],
                "reason": "FlexLM needs a MAC-address interface",
            }
        ]
    }
    assert workloads.security_context(deployment(pod, "flexlmserver", "lic"), config) == []
    # another workload, or another namespace, gets no such allowance
    assert workloads.security_context(deployment(pod, "flexlmserver", "other"), config)
    assert workloads.security_context(deployment(pod, "app", "lic"), config)
    # and the exception adds nothing it does not name
    pod["containers"][0]["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")
    [problem] = workloads.security_context(deployment(pod, "flexlmserver", "lic"), config)
    assert "adds SYS_ADMIN" in problem
    # an exception without a reason silences nothing
    config["exceptions"][0]["reason"] = " "
    assert workloads.security_context(deployment(pod, "flexlmserver", "lic"), config)


def test_host_path_and_probes_and_token_and_read_only_root() -> None:
    pod = good_pod()
    pod["volumes"] = [{"name": "data", "hostPath": {"path": "/tmp"}}]
    assert "mounts a host path" in workloads.no_host_path(deployment(pod), {})[0]
    assert (
        "no readinessProbe"
        in workloads.probes(deployment(mutate("containers.0.readinessProbe", None)), {})[0]
    )
    jobs = Resource(
        "kubernetes:batch/v1:Job",
        "j",
        {
            "metadata": {"name": "j"},
            "spec": {"template": {"spec": mutate("containers.0.livenessProbe", None)}},
        },
    )
    assert workloads.probes(jobs, {}) == [], "jobs finish; they need no probes"
    assert (
        "the API token is mounted"
        in workloads.service_account_token(deployment(mutate("automountServiceAccountToken", True)), {})[0]
    )
    assert (
        "root file system is writable"
        in workloads.read_only_root_filesystem(
            deployment(mutate("containers.0.securityContext.readOnlyRootFilesystem", False)), {}
        )[0]
    )


@pytest.mark.parametrize(
    ("image", "config", "fragment"),
    [
        ("registry.partek.com/rtw:latest", {}, "has no pinned tag"),
        ("registry.partek.com/rtw", {}, "has no pinned tag"),
        (
            "registry.partek.com/rtw:23.0809.22",
            {"allowedRegistries": ["1.dkr.ecr/"]},
            "not from an allowed registry",
        ),
        ("registry.partek.com/rtw:23.0809.22", {"requireDigest": True}, "not pinned by digest"),
    ],
)
def test_image_violations(image: str, config: dict[str, Any], fragment: str) -> None:
    problems = workloads.images(deployment(mutate("containers.0.image", image)), config)
    assert any(fragment in p for p in problems), problems


def test_a_tag_in_an_immutable_registry_counts_as_pinned() -> None:
    image = "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1.2.3"
    config = {
        "requireDigest": True,
        "immutableTagRegistries": ["123456789012.dkr.ecr.us-west-2.amazonaws.com/"],
    }
    assert workloads.images(deployment(mutate("containers.0.image", image)), config) == []
    assert (
        workloads.images(
            deployment(mutate("containers.0.image", "app@sha256:" + "a" * 64)), {"requireDigest": True}
        )
        == []
    )


def test_unknown_values_skip_only_their_field() -> None:
    pod = mutate("containers.0.image", UNKNOWN)
    pod["containers"][0]["resources"] = {"requests": {"cpu": UNKNOWN, "memory": "1Gi"}}
    assert workloads.images(deployment(pod), {"allowedRegistries": ["x/"]}) == []
    problems = workloads.resources(deployment(pod), {})
    assert any("limits.memory: no memory limit" in p for p in problems)
    assert not any("no cpu request" in p for p in problems)


def test_flink_deployment_pod_templates_are_checked() -> None:
    template = {
        "spec": {"containers": [{"name": "flink-main-container", "securityContext": {"privileged": True}}]}
    }
    flink = Resource(
        "kubernetes:flink.apache.org/v1beta1:FlinkDeployment",
        "f",
        {
            "metadata": {"name": "f", "namespace": "flink"},
            "spec": {"podTemplate": template, "taskManager": {"podTemplate": template}},
        },
    )
    problems = workloads.security_context(flink, {})
    # the operator builds the TaskManager pod from spec.podTemplate merged with taskManager.podTemplate
    assert any(
        "spec.taskManager(pod).containers[flink-main-container].securityContext.privileged" in p
        for p in problems
    )


def _k8s(type_: str, props: dict[str, Any]) -> Resource:
    return Resource(type_, props.get("metadata", {}).get("name", "x"), props, "urn:x")


def test_cluster_rules() -> None:
    svc = {"metadata": {"name": "s", "namespace": "n"}, "spec": {"type": "NodePort"}}
    assert "is NodePort" in cluster.service_exposure(_k8s("kubernetes:core/v1:Service", svc), {})[0]
    svc["spec"]["type"] = "LoadBalancer"
    assert (
        "accepts every source address"
        in cluster.service_exposure(_k8s("kubernetes:core/v1:Service", svc), {})[0]
    )
    svc["metadata"]["annotations"] = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    assert cluster.service_exposure(_k8s("kubernetes:core/v1:Service", svc), {}), "internal is not a range"
    svc["spec"]["loadBalancerSourceRanges"] = ["10.0.0.0/16"]
    assert cluster.service_exposure(_k8s("kubernetes:core/v1:Service", svc), {}) == []
    ingress = {"metadata": {"name": "i", "namespace": "n"}, "spec": {"rules": [{"http": {}}]}}
    problems = cluster.ingress_tls(_k8s("kubernetes:networking.k8s.io/v1:Ingress", ingress), {})
    assert any("spec.tls: no TLS" in p for p in problems) and any("no host" in p for p in problems)
    ingress["spec"] = {
        "rules": [{"host": "a.example.com"}],
        "tls": [{"hosts": ["a.example.com"], "secretName": "t"}],
    }
    assert cluster.ingress_tls(_k8s("kubernetes:networking.k8s.io/v1:Ingress", ingress), {}) == []
    ns = {"metadata": {"name": "n", "labels": {}}}
    assert "is missing" in cluster.namespace_pod_security(_k8s("kubernetes:core/v1:Namespace", ns), {})[0]
    ns["metadata"]["labels"] = {"pod-security.kubernetes.io/enforce": "privileged"}
    assert cluster.namespace_pod_security(_k8s("kubernetes:core/v1:Namespace", ns), {})
    assert (
        cluster.namespace_pod_security(
            _k8s("kubernetes:core/v1:Namespace", ns), {"privilegedNamespaces": ["n"]}
        )
        == []
    )
    assert cluster.no_default_namespace(
        _k8s("kubernetes:core/v1:ConfigMap", {"metadata": {"namespace": "default"}}), {}
    )


def test_rbac_rules() -> None:
    role = {
        "metadata": {"name": "r", "namespace": "n"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "escalate"]}],
    }
    assert "grants 'escalate'" in cluster.rbac_rules(_k8s(cluster.ROLE_TYPES[0], role), {})[0]
    role["rules"] = [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get"]}]
    assert cluster.rbac_rules(_k8s(cluster.ROLE_TYPES[0], role), {}) == []
    binding = {
        "metadata": {"name": "b", "namespace": "n"},
        "roleRef": {"name": "engine"},
        "subjects": [{"kind": "ServiceAccount", "name": "engine", "namespace": "n"}],
    }
    assert cluster.rbac_bindings(_k8s(cluster.BINDING_TYPES[0], binding), {}) == []
    binding["subjects"].append({"kind": "Group", "name": "system:authenticated"})
    assert "system:authenticated" in cluster.rbac_bindings(_k8s(cluster.BINDING_TYPES[0], binding), {})[0]
    cr = _k8s("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", {"metadata": {"name": "c"}})
    assert "cluster-scoped" in cluster.rbac_namespaced(cr, {})[0]
    assert (
        cluster.rbac_namespaced(
            cr,
            {
                "exceptions": [
                    {
                        "namespace": "",
                        "name": "c",
                        "allow": ["cluster-scope"],
                        "reason": "an operator watching every namespace",
                    }
                ]
            },
        )
        == []
    )


def test_storage_classes() -> None:
    config = {"allowedStorageClasses": ["gp3", "efs-sc"], "sharedFileClasses": ["efs-sc"]}
    pvc = {
        "metadata": {"name": "c", "namespace": "n"},
        "spec": {"storageClassName": "gp3", "accessModes": ["ReadWriteMany"]},
    }
    assert (
        "ReadWriteMany on 'gp3'"
        in cluster.storage_classes(_k8s("kubernetes:core/v1:PersistentVolumeClaim", pvc), config)[0]
    )
    pvc["spec"] = {"storageClassName": "standard", "accessModes": ["ReadWriteOnce"]}
    assert (
        "not an allowed class"
        in cluster.storage_classes(_k8s("kubernetes:core/v1:PersistentVolumeClaim", pvc), config)[0]
    )
    pvc["spec"] = {"storageClassName": "", "volumeName": "pv-1", "accessModes": ["ReadWriteMany"]}
    assert cluster.storage_classes(_k8s("kubernetes:core/v1:PersistentVolumeClaim", pvc), config) == []


def test_aws_rules() -> None:
    fs = Resource("aws:efs/fileSystem:FileSystem", "fs", {"encrypted": True})
    assert aws.efs_encryption(fs, {}) == []
    assert "customer KMS key" in aws.efs_encryption(fs, {"requireKms": True})[0]
    assert "not encrypted" in aws.efs_encryption(Resource(fs.type, "fs", {"encrypted": False}), {})[0]
    repo = Resource("aws:ecr/repository:Repository", "r", {"imageTagMutability": "MUTABLE"})
    problems = aws.ecr_repository(repo, {})
    assert any("scanned on push" in p for p in problems) and any("tags are MUTABLE" in p for p in problems)
    public = Resource(
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "p",
        {
            "policy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
            )
        },
    )
    assert "repository is public" in aws.ecr_repository(public, {})[0]
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:oidc"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"issuer:aud": "sts.amazonaws.com"}},
            }
        ]
    }
    role = Resource("aws:iam/role:Role", "role", {"assumeRolePolicy": json.dumps(trust)})
    assert "does not pin 'sub'" in aws.iam_roles(role, {})[0]
    trust["Statement"][0]["Condition"]["StringEquals"]["issuer:sub"] = "system:serviceaccount:n:sa"
    assert aws.iam_roles(Resource(role.type, "role", {"assumeRolePolicy": json.dumps(trust)}), {}) == []
    star = Resource(
        "aws:iam/rolePolicy:RolePolicy",
        "p",
        {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})},
    )
    assert "grants * (admin-like)" in aws.iam_roles(star, {})[0]


def test_stack_rules() -> None:
    ns = Resource(
        "kubernetes:core/v1:Namespace",
        "ns",
        {"metadata": {"name": "n", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        "urn:ns",
    )
    inside = [
        Resource("kubernetes:core/v1:LimitRange", "l", {"metadata": {"name": "l", "namespace": "n"}}),
        Resource("kubernetes:core/v1:ResourceQuota", "q", {"metadata": {"name": "q", "namespace": "n"}}),
        Resource(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "d",
            {
                "metadata": {"name": "d", "namespace": "n"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        ),
    ]
    assert stack.namespace_guardrails([ns, *inside], {}) == []
    [(urn, problem)] = stack.namespace_guardrails([ns, *inside[:2]], {})
    assert urn == "urn:ns" and "missing default-deny NetworkPolicy" in problem
    claim = Resource("kubernetes:core/v1:PersistentVolumeClaim", "c", {"metadata": {"name": "c"}}, "urn:c")
    assert stack.stateful_protected([claim], {"requireProtect": True})[0][0] == "urn:c"
    assert stack.stateful_protected([claim], {"requireProtect": False}) == []
    protected = Resource(claim.type, "c", claim.props, "urn:c", {"protect": True})
    assert stack.stateful_protected([protected], {"requireProtect": True}) == []


def _file_schema() -> dict[str, Any]:
    """The policy config file's schema, strict: unknown policies or keys are errors."""
    properties: dict[str, Any] = {"all": {"enum": ["advisory", "mandatory", "disabled"]}}
    for rule in RULES:
        properties[rule.name] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enforcementLevel": {"enum": ["advisory", "mandatory", "disabled"]},
                **rule.properties,
            },
        }
    return {"type": "object", "additionalProperties": False, "properties": properties}


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_policy_config_files_match_the_schemas(env: str) -> None:
    config = json.loads(
        (Path(__file__).resolve().parents[1] / "policy" / "config" / f"{env}.json").read_text()
    )
    jsonschema.validate(config, _file_schema())
    broken = copy.deepcopy(config)
    # an env may have no exception of its own (tst deploys no FlexLM server): add one, misspelt
    broken["pod-security-context"]["exceptions"] = [
        {
            "namespace": "partek-license",
            "name": "flexlmserver",
            "allow": ["capability:NET_ADMN"],
            "reason": "FlexLM needs NET_ADMIN",
        }
    ]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _file_schema())


def test_environment_levels() -> None:
    root = Path(__file__).resolve().parents[1] / "policy" / "config"
    levels = {env: json.loads((root / f"{env}.json").read_text()) for env in ("dev", "tst", "uat", "prd")}

    def mandatory(env: str) -> set[str]:
        return {
            name
            for name, entry in levels[env].items()
            if isinstance(entry, dict) and entry.get("enforcementLevel") == "mandatory"
        }

    assert mandatory("dev") == set(), "dev is advisory"
    assert len(mandatory("tst")) >= len(RULES) - 3, "tst is mostly mandatory"
    assert mandatory("prd") == {r.name for r in RULES} - {"read-only-root-filesystem"}
    assert levels["prd"]["image-source"]["requireDigest"] is True
    assert levels["prd"]["stateful-protected"]["requireProtect"] is True
