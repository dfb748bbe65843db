"""Each ServiceAccount the stack creates may do what its workload needs, and nothing dangerous.

The needs are written here from the engines' own documentation, not read back from the Roles:
- Flink JobManager, native Kubernetes mode (Flink 1.20 docs "Native Kubernetes" > RBAC and
  "Kubernetes HA Services"; flink-kubernetes-operator 1.15 chart `rbac.jobRole`): it creates,
  watches and deletes its TaskManager pods, keeps leader election and HA state in ConfigMaps, and
  reads its own JobManager Deployment to own the TaskManager pods.
- HyperFlow engine v1.5.7 (`functions/kubernetes/k8sJobSubmit.js`, run by tests/test_hyperflow.py):
  creates one Job per task (`createNamespacedJob`) and nothing else; a task's end comes back
  through redis, and finished Jobs go by their TTL.
- Spark 4.0.1's driver (openflow): creates, watches, patches and deletes its executor pods, creates
  their ConfigMap and on-demand claims, and deletes them all by label when it stops; executors call
  nothing.
- The image-copy job authenticates to ECR through IRSA and to the source registry through a
  mounted Secret: it needs nothing from the Kubernetes API.
"""

import copy
from typing import Any

from conftest import _rendered

from .apiserver import Client
from .cluster import Access, make_real, rbac_findings
from .conftest import AppliedEnv

NEEDS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("flink", "flink-cluster"): [
        *((verb, "/pods") for verb in ("create", "delete", "get", "list", "watch")),
        *((verb, "/configmaps") for verb in ("create", "delete", "get", "list", "watch", "update")),
        ("get", "apps/deployments"),
    ],
    # TaskManagers only watch the HA leader ConfigMaps (FLINK-20664), with HA only: no need to assert
    ("flink", "flink-taskmanager"): [],
    ("hyperflow", "engine"): [("create", "batch/jobs")],
    ("mirror", "image-copy"): [],
    # Spark 4.0.1's driver (flow_platform.openflow.spark.driver_role_rules; run for real by
    # test_openflow_spark.py): executors, their ConfigMap, and collection deletes on stop
    ("openflow", "spark-driver"): [
        *(
            (verb, "/pods")
            for verb in ("create", "delete", "deletecollection", "get", "list", "patch", "watch")
        ),
        *((verb, "/configmaps") for verb in ("create", "deletecollection")),
        ("deletecollection", "/services"),
        *((verb, "/persistentvolumeclaims") for verb in ("create", "deletecollection", "list")),
    ],
    ("openflow", "spark-executor"): [],
    # EventFlow nodes publish, update and remove their own discovery Service and read pods (the sample's
    # docs, docker/ef-kubernetes; tests/integration/test_eventflow_cluster.py denies everything else)
    **{
        ("eventflow", component): [
            *(
                (verb, "/services")
                for verb in ("create", "delete", "get", "list", "patch", "update", "watch")
            ),
            *((verb, "/pods") for verb in ("get", "list", "watch")),
        ]
        for component in ("node", "cluster-monitor")
    },
}


def _needs(account: dict[str, Any]) -> list[Access]:
    labels = account["metadata"].get("labels") or {}
    key = (labels.get("app.kubernetes.io/part-of", ""), labels.get("app.kubernetes.io/component", ""))
    assert key in NEEDS, f"ServiceAccount {account['metadata']['name']} ({key}): write its needs in NEEDS"
    return [(verb, target, account["metadata"]["namespace"]) for verb, target in NEEDS[key]]


def test_each_service_account_may_do_what_it_needs_and_nothing_dangerous(
    kube: Client, applied: AppliedEnv
) -> None:
    # the operators' accounts have their charts' Roles (checked against the charts' own unit tests,
    # tests/test_flink_chart.py and tests/test_spark_operator_chart.py, and by SubjectAccessReviews in
    # tests/integration/test_spark_operator.py): managing pods and Secrets in their job namespaces is
    # their job
    operators = {"flink-kubernetes-operator", "spark-operator"}
    accounts = [
        o
        for o in applied.objects
        if o["kind"] == "ServiceAccount"
        and (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name") not in operators
    ]
    assert accounts, "the stack creates no ServiceAccount"
    namespaces = sorted(o["metadata"]["name"] for o in applied.objects if o["kind"] == "Namespace")
    findings = []
    for account in accounts:
        namespace = account["metadata"]["namespace"]
        other = next(n for n in namespaces if n != namespace)
        findings += rbac_findings(kube, namespace, account["metadata"]["name"], _needs(account), other)
    assert findings == [], "\n".join(findings)


def test_a_role_granting_a_denied_verb_fails_the_check(kube: Client) -> None:
    stack = _rendered("prd")
    [account] = stack.objects("ServiceAccount", "hyperflow-prd")
    [role] = stack.objects("Role", "hyperflow-prd")
    [binding] = stack.objects("RoleBinding", "hyperflow-prd")
    objects = [copy.deepcopy(o) for o in (account, role, binding)]
    for obj in objects:
        obj["metadata"]["namespace"] = "negative-rbac"
    objects[2]["subjects"][0]["namespace"] = "negative-rbac"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "negative-rbac"}}
    make_real(kube, [namespace, *objects])
    needs = [(verb, target, "negative-rbac") for verb, target in NEEDS[("hyperflow", "engine")]]
    name = account["metadata"]["name"]
    assert rbac_findings(kube, "negative-rbac", name, needs, "kube-public") == [], "the real Role passes"

    objects[1]["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    make_real(kube, [namespace, *objects])
    findings = rbac_findings(kube, "negative-rbac", name, needs, "kube-public")
    assert findings == [f"negative-rbac/{name}: get /secrets in negative-rbac is allowed"]
