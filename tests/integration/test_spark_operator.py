"""The spark-operator and the openflow applications as a real v1.32 API server admits them.

The CRDs are the shipped v2.5.2 files (created for real); everything else is applied server-side
with a dry run and strict field validation into namespaces that enforce and warn ``restricted``
Pod Security: a Pod Security warning is a failure, as is any other warning. The controller's RBAC is
created for real and asked with SubjectAccessReviews.
"""

import copy
import time
from typing import Any

import pytest
from flow_platform.k8s.labels import namespace_labels
from flow_platform.openflow import operator_objects, scheduled_spark_application, spark_application
from flow_platform.openflow.spark_operator_chart import crd_documents
from test_spark_operator import APP, OPERATOR

from .apiserver import Client
from .cluster import install_crds, response_problems, service_account_user, wait_for_rbac, where

OPERATOR_NS, JOB_NS, OTHER_NS = "spark-operator-it", "openflow-it", "openflow-other-it"


@pytest.fixture(scope="module")
def spark(kube: Client) -> Client:
    install_crds(kube, crd_documents())
    # Established is not yet served discovery: wait until the kinds resolve (path_of re-reads it)
    deadline = time.monotonic() + 30
    for kind in ("SparkApplication", "ScheduledSparkApplication"):
        probe = {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": kind,
            "metadata": {"name": "x", "namespace": JOB_NS},
        }
        while True:
            try:
                kube.path_of(probe)
                break
            except LookupError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    for name in (OPERATOR_NS, JOB_NS, OTHER_NS):
        namespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": namespace_labels("it", "openflow", "restricted", "v1.32")},
        }
        kube.must(f"create namespace {name}", kube.apply(namespace, dry_run=False))
    # openflow's per-namespace accounts (SparkSubmitEnvironment's), which the applications name
    for account, token in ((APP["driver_service_account"], True), (APP["executor_service_account"], False)):
        obj = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": account, "namespace": JOB_NS},
            "automountServiceAccountToken": token,
        }
        kube.must(f"create {where(obj)}", kube.apply(obj, dry_run=False))
    return kube


def _operator() -> list[dict[str, Any]]:
    return operator_objects({**OPERATOR, "namespace": OPERATOR_NS, "job_namespaces": [JOB_NS]})  # type: ignore[typeddict-item]


def _app() -> dict[str, Any]:
    return {**APP, "namespace": JOB_NS}


def _problems(client: Client, objects: list[dict[str, Any]], dry_run: bool = True) -> list[str]:
    problems = []
    for obj in objects:
        problems += response_problems(obj, client.apply(obj, dry_run=dry_run), set())
    return problems


def test_the_operator_is_admitted_without_any_warning_under_restricted(spark: Client) -> None:
    objects = _operator()
    assert [o for o in objects if o["kind"] == "Deployment"], "the controller Deployment is applied"
    assert _problems(spark, objects) == []
    # the check sees a Pod Security violation: without the explicit non-root pod context it warns
    [deployment] = copy.deepcopy([o for o in objects if o["kind"] == "Deployment"])
    del deployment["spec"]["template"]["spec"]["securityContext"]
    del deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["seccompProfile"]
    assert any("restricted" in p for p in _problems(spark, [deployment]))


def test_applications_are_admitted_by_the_v2_5_2_crds(spark: Client) -> None:
    objects = [
        spark_application(_app()),  # type: ignore[arg-type]
        scheduled_spark_application({"application": _app(), "schedule": "17 3 * * *"}),  # type: ignore[typeddict-item]
    ]
    assert _problems(spark, objects) == []
    bad = copy.deepcopy(objects[0])
    bad["spec"]["driver"]["securityContex"] = {"runAsUser": 185}
    response = spark.apply(bad, dry_run=True)
    assert response.status >= 400 and "securityContex" in response.message, where(bad)


def test_pods_spark_starts_from_the_templates_pass_restricted(spark: Client) -> None:
    """Spark keeps the template and adds image, resources, ports and env to the named container
    (KubernetesDriverBuilder / KubernetesExecutorBuilder); the result must be admitted silently."""
    spec = spark_application(_app())["spec"]  # type: ignore[arg-type]
    for role, ports in (("driver", [7078, 7079, 4040]), ("executor", [7079])):
        template = copy.deepcopy(spec[role]["template"])
        [container] = template["spec"]["containers"]
        container.update(
            image=spec["image"],
            resources={"requests": {"cpu": "1", "memory": "2432Mi"}, "limits": {"memory": "2432Mi"}},
            ports=[{"containerPort": p} for p in ports],
            env=[{"name": "SPARK_LOCAL_DIRS", "value": "/var/data/spark-local-dir-1"}],
        )
        template["spec"]["restartPolicy"] = "Never"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"spark-pi-{role}", "namespace": JOB_NS, **template["metadata"]},
            "spec": template["spec"],
        }
        response = spark.create(pod, dry_run=True)
        assert response.ok, response.message
        assert response.warnings == []


def test_the_controller_may_run_applications_in_its_job_namespaces_only(spark: Client) -> None:
    rbac = [
        o
        for o in _operator()
        if o["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    ]
    assert _problems(spark, rbac, dry_run=False) == []
    wait_for_rbac(spark, rbac)
    user, groups = service_account_user(OPERATOR_NS, "spark-operator-it-controller")
    # spark-submit in the controller creates the driver pod, its ConfigMap and Service
    for verb, resource in (
        ("create", "pods"),
        ("create", "configmaps"),
        ("create", "services"),
        ("delete", "pods"),
    ):
        assert spark.can(user, groups, verb, resource, JOB_NS), (verb, resource)
        assert not spark.can(user, groups, verb, resource, OTHER_NS), (verb, resource, OTHER_NS)
    assert spark.can(user, groups, "update", "sparkapplications", JOB_NS, "sparkoperator.k8s.io", "status")
    assert spark.can(user, groups, "get", "customresourcedefinitions", group="apiextensions.k8s.io")
    for verb, resource, namespace in (
        ("get", "secrets", JOB_NS),
        ("list", "pods", None),
        ("create", "pods", OPERATOR_NS),
        ("create", "rolebindings", JOB_NS),
    ):
        group = "rbac.authorization.k8s.io" if resource == "rolebindings" else ""
        assert not spark.can(user, groups, verb, resource, namespace, group), (verb, resource, namespace)
