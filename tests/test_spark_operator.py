"""The spark-operator installation and the openflow applications, checked against the pinned chart,
the v2.5.2 CRDs and the Kubernetes 1.32 schemas (strict)."""

import copy
import functools
import hashlib
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from flow_platform.openflow import (
    OpenflowApplication,
    OpenflowScheduledApplication,
    SparkOperator,
    operator_objects,
    operator_values,
    scheduled_spark_application,
    spark_application,
)
from flow_platform.openflow import spark_operator_chart as chart
from flow_platform.openflow.openflow_application import DRIVER_CONTAINER, EXECUTOR_CONTAINER
from flow_platform.validation import ArgsError
from flow_platform_stacks.tooling.harness import run_program
from test_schemas import _strict

K8S = "1.32.0"
IMAGE = "111111111111.dkr.ecr.us-west-2.amazonaws.com/flow-platform/spark-operator:2.5.2"
OPERATOR: dict[str, Any] = {
    "namespace": "spark-operator-dev",
    "env": "dev",
    "image": IMAGE,
    "job_namespaces": ["openflow-dev", "openflow-tst"],
    "api_server_cidrs": ["10.0.0.1/32"],
}
APP: dict[str, Any] = {
    "namespace": "openflow-dev",
    "env": "dev",
    "name": "spark-pi",
    "image": "111111111111.dkr.ecr.us-west-2.amazonaws.com/flow-platform/spark:4.0.1",
    "spark_version": "4.0.1",
    "main_application_file": "local:///opt/spark/examples/jars/spark-examples_2.13-4.0.1.jar",
    "main_class": "org.apache.spark.examples.SparkPi",
    "arguments": ["1000"],
    "spark_conf": {"spark.eventLog.enabled": "false"},
    "driver": {"cores": 1, "memory": "2Gi"},
    "executor": {"cores": 2, "memory": "4Gi"},
    "dynamic_allocation": {"min_executors": 1, "max_executors": 4},
    "driver_service_account": "spark-driver",
    "executor_service_account": "spark-executor",
}

UPSTREAM_SHA256 = {
    "Chart.yaml": "c20284914621c70c2fb83b76b764e8e82433e360c1bcd6af97f4a025f6acf3c6",
    "values.yaml": "4cb87a38d9b13a936b6a066685c6e5107d27164db46976fc8a5b5fa3af9123c3",
    "crds/sparkoperator.k8s.io_scheduledsparkapplications.yaml": (
        "5dc6654b2ad9157421ddf177737795420088fbe70338e45602bacf22ce25cc99"
    ),
    "crds/sparkoperator.k8s.io_sparkapplications.yaml": (
        "ecd9c14fcadb9d5f8ced4c4ee31920548ea53a892e0a69c3e43aa758bfca6d94"
    ),
    "crds/sparkoperator.k8s.io_sparkconnects.yaml": (
        "e80c54cc086e7f0a4ed39de713138f5c9aa5506219584b528cc1a00e65163986"
    ),
}
"""sha256 of the files of kubeflow/spark-operator v2.5.2 (commit 43afb8bb), charts/spark-operator-chart/."""


# --- the vendored chart ------------------------------------------------------------------------------


def test_the_shipped_chart_is_the_pinned_release_unchanged() -> None:
    for relative, digest in UPSTREAM_SHA256.items():
        assert hashlib.sha256((chart.CHART_DIR / relative).read_bytes()).hexdigest() == digest, relative
    meta = chart.chart_metadata()
    assert (meta["name"], meta["version"], meta["appVersion"]) == ("spark-operator", "2.5.2", "2.5.2")
    assert [d["metadata"]["name"] for d in chart.crd_documents()] == [
        "scheduledsparkapplications.sparkoperator.k8s.io",
        "sparkapplications.sparkoperator.k8s.io",
        "sparkconnects.sparkoperator.k8s.io",
    ]


def test_every_value_flow_platform_sets_is_a_key_of_the_charts_values_yaml() -> None:
    values = operator_values(IMAGE, ["openflow-dev"])
    assert chart.unknown_keys(values) == []

    def leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in tree.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and value and path not in chart.FREE_FORM:
                out |= leaves(value, f"{path}.")
            else:
                out.add(path)
        return out

    # and each key actually changes what the templates render (Helm ignores what it never reads)
    base = chart.render({"webhook": {"enable": False}}, "ns", "spark-operator-dev")
    for key in sorted(leaves(values) - {"webhook.enable"}):
        *parents, leaf = key.split(".")
        value = functools.reduce(lambda t, k: t[k], key.split("."), values)
        # our pinned tag equals the chart's appVersion default; any other tag must show
        one: dict[str, Any] = {leaf: "9.9.9" if key == "image.tag" else value}
        for parent in reversed(parents):
            one = {parent: one}
        rendered = chart.render({**one, "webhook": {"enable": False}}, "ns", "spark-operator-dev")
        assert rendered != base, f"{key} renders nothing different"


def test_a_misspelt_or_unrendered_value_is_refused() -> None:
    assert chart.unknown_keys({"controller": {"resource": {}}}) == ["controller.resource"]
    with pytest.raises(ValueError, match=r"not values of spark-operator 2\.5\.2: controler"):
        chart.render({"controler": {}}, "ns")
    with pytest.raises(ValueError, match=r"webhook\.enable"):
        chart.render({}, "ns")  # the chart's default turns the webhook on
    for key in ("hook.upgradeCrd", "certManager.enable", "prometheus.podMonitor.create"):
        first, *rest = key.split(".")
        value: Any = True
        for part in reversed(rest):
            value = {part: value}
        with pytest.raises(ValueError, match=key.replace(".", r"\.")):
            chart.render({"webhook": {"enable": False}, first: value}, "ns")


def test_job_namespaces_are_never_every_namespace() -> None:
    with pytest.raises(ValueError, match="every namespace"):
        operator_values(IMAGE, [])
    with pytest.raises(ValueError, match="every namespace"):
        operator_values(IMAGE, ["", "openflow-dev"])


# --- the operator's objects ----------------------------------------------------------------------------


def _objects(**overrides: Any) -> list[dict[str, Any]]:
    return operator_objects({**OPERATOR, **overrides})  # type: ignore[typeddict-item]


def test_every_operator_object_is_valid_kubernetes_in_strict_mode() -> None:
    for obj in _objects():
        kubernetes_validate.validate(obj, K8S, strict=True)


def test_operator_rbac_is_the_charts_and_only_in_the_job_namespaces() -> None:
    objs = _objects()
    kinds = sorted((o["kind"], o["metadata"].get("namespace")) for o in objs if "Role" in o["kind"])
    assert kinds == [
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
        ("Role", "openflow-dev"),
        ("Role", "openflow-tst"),
        ("Role", "spark-operator-dev"),
        ("RoleBinding", "openflow-dev"),
        ("RoleBinding", "openflow-tst"),
        ("RoleBinding", "spark-operator-dev"),
    ]
    [cluster_role] = [o for o in objs if o["kind"] == "ClusterRole"]
    # with explicit job namespaces the cluster-wide role only reads CRDs (controller/rbac.yaml)
    assert cluster_role["rules"] == [
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get"]}
    ]
    roles = {o["metadata"]["namespace"]: o for o in objs if o["kind"] == "Role"}
    for ns in ("openflow-dev", "openflow-tst"):
        rules = {
            (g, r): sorted(rule["verbs"])
            for rule in roles[ns]["rules"]
            for g in rule["apiGroups"]
            for r in rule["resources"]
        }
        # what spark-submit in the controller and the reconciler need (chart's policyRules)
        assert rules[("", "pods")] == sorted(["get", "list", "watch", "create", "update", "delete"])
        assert rules[("", "configmaps")] == sorted(["get", "list", "watch", "create", "update", "patch"])
        assert rules[("", "services")] == sorted(
            ["get", "list", "watch", "create", "update", "patch", "delete"]
        )
        assert rules[("sparkoperator.k8s.io", "sparkapplications")] == sorted(
            ["get", "list", "watch", "create", "delete"]
        )
        assert ("", "secrets") not in rules
    own = roles["spark-operator-dev"]["rules"]
    assert {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["spark-operator-dev-controller-lock"],
        "verbs": ["get", "update"],
    } in own
    assert not any(r["resources"] == ["pods"] for r in own), "no pod access in its own namespace"
    for obj in objs:
        for rule in obj.get("rules", []):
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], obj["metadata"]["name"]
    for binding in (o for o in objs if o["kind"].endswith("Binding")):
        assert binding["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": "spark-operator-dev-controller",
                "namespace": "spark-operator-dev",
            }
        ]
    # no chart-made Spark account: the applications use openflow's own driver/executor accounts
    assert not [
        o
        for o in objs
        if o["kind"] == "ServiceAccount" and o["metadata"]["namespace"] != "spark-operator-dev"
    ]


def test_the_controller_is_restricted_sized_and_watches_only_its_job_namespaces() -> None:
    [deployment] = [o for o in _objects() if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == IMAGE
    assert "--namespaces=openflow-dev,openflow-tst" in container["args"]
    assert "--controller-threads=4" in container["args"]
    assert not any(a.startswith("--enable-metrics") for a in container["args"])
    assert pod["securityContext"]["runAsUser"] == 185 and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is True
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "2Gi"},
        "limits": {"memory": "2Gi"},
    }
    assert {"name": "tmp", "mountPath": "/tmp", "readOnly": False} in container["volumeMounts"]
    assert "ports" not in container, "no webhook, no metrics: nothing listens for other pods"


def test_operator_args_are_checked_before_anything_is_registered() -> None:
    with pytest.raises(ArgsError, match=r"args\['job_namespaces'\]: the operator's own namespace"):
        SparkOperator("op", {**OPERATOR, "job_namespaces": ["spark-operator-dev"]})  # type: ignore[typeddict-item]
    with pytest.raises(ArgsError, match=r"args\['image'\]: .*needs a tag"):
        SparkOperator("op", {**OPERATOR, "image": IMAGE.split(":")[0] + "@sha256:" + "a" * 64})  # type: ignore[typeddict-item]
    with pytest.raises(ArgsError, match=r"args\['job_namespaces'\]\[1\]"):
        SparkOperator("op", {**OPERATOR, "job_namespaces": ["ok", "Not_OK"]})  # type: ignore[typeddict-item]


def _register(component: type, args: dict[str, Any]) -> list[Any]:
    def program() -> None:
        component("x", args)

    return run_program("lib", {}, [], program=program)


def test_crds_are_created_retained_and_protected_by_the_managing_stack_only() -> None:
    managed = _register(SparkOperator, {**OPERATOR, "manage_crds": True, "protect": True})
    crds = [r for r in managed if r.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"]
    assert sorted(r.inputs["metadata"]["name"] for r in crds) == [
        d["metadata"]["name"] for d in chart.crd_documents()
    ]
    assert all(r.options["retain_on_delete"] is True and r.options["protect"] is True for r in crds)
    deployment = next(r for r in managed if r.type == "kubernetes:apps/v1:Deployment")
    assert {r.urn for r in crds} <= set(deployment.options["depends_on"])
    reading = _register(SparkOperator, OPERATOR)
    assert not [
        r
        for r in reading
        if r.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
        and r.custom
        and r.inputs.get("spec")
    ]
    policies = sorted(
        r.inputs["metadata"]["name"]
        for r in reading
        if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    )
    assert policies == ["spark-operator-allow-api-server", "spark-operator-allow-dns"]


# --- the applications -------------------------------------------------------------------------------


@functools.cache
def _crd_schema(plural: str) -> dict[str, Any]:
    [crd] = [d for d in chart.crd_documents() if d["metadata"]["name"] == f"{plural}.sparkoperator.k8s.io"]
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta2"]
    schema = _strict(version["schema"]["openAPIV3Schema"])
    schema["properties"].update(
        apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"}
    )
    return schema


def _validate_cr(obj: dict[str, Any]) -> None:
    plural = {
        "SparkApplication": "sparkapplications",
        "ScheduledSparkApplication": "scheduledsparkapplications",
    }
    jsonschema.Draft7Validator(_crd_schema(plural[obj["kind"]])).validate(obj)


def _pods_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The driver and executor templates as the v1 Pods Spark starts from them."""
    pods = []
    for role in ("driver", "executor"):
        template = spec[role]["template"]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": role, **template["metadata"]},
                "spec": template["spec"],
            }
        )
    return pods


def test_applications_are_valid_against_the_v2_5_2_crds() -> None:
    _validate_cr(spark_application(APP))  # type: ignore[arg-type]
    fixed = {k: v for k, v in APP.items() if k != "dynamic_allocation"}
    _validate_cr(spark_application({**fixed, "executor": {**APP["executor"], "instances": 3}, "retries": 2}))  # type: ignore[typeddict-item]
    _validate_cr(
        scheduled_spark_application(
            {"application": APP, "schedule": "17 3 * * *", "time_zone": "Europe/Warsaw"}
        )
    )  # type: ignore[typeddict-item]


def test_the_crd_check_rejects_what_the_api_server_would() -> None:
    bad = spark_application(APP)  # type: ignore[arg-type]
    bad["spec"]["driver"]["podSecurityContext2"] = {}
    with pytest.raises(jsonschema.ValidationError):
        _validate_cr(bad)
    bad = spark_application(APP)  # type: ignore[arg-type]
    bad["spec"]["restartPolicy"]["type"] = "Sometimes"
    with pytest.raises(jsonschema.ValidationError):
        _validate_cr(bad)


def test_driver_and_executor_templates_are_strict_restricted_v1_pods() -> None:
    spec = spark_application(APP)["spec"]  # type: ignore[arg-type]
    driver, executor = _pods_of(spec)
    for pod in (driver, executor):
        kubernetes_validate.validate(pod, K8S, strict=True)
        context = pod["spec"]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"], context["runAsNonRoot"]) == (185, 185, True)
        [container] = pod["spec"]["containers"]
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert driver["spec"]["containers"][0]["name"] == DRIVER_CONTAINER
    assert executor["spec"]["containers"][0]["name"] == EXECUTOR_CONTAINER
    assert (
        driver["spec"]["serviceAccountName"] == "spark-driver"
        and driver["spec"]["automountServiceAccountToken"]
    )
    assert executor["spec"]["serviceAccountName"] == "spark-executor"
    assert executor["spec"]["automountServiceAccountToken"] is False
    # the fields the operator applies only through its webhook are never set
    for role in ("driver", "executor"):
        assert not {"securityContext", "podSecurityContext", "volumes", "env", "sidecars"} & set(spec[role])
    assert "volumes" not in spec


def test_the_templates_are_openflows_own_sized_as_spark_sizes_the_pods() -> None:
    from flow_platform.openflow import pod_template

    spec = spark_application(APP)["spec"]  # type: ignore[arg-type]
    # one building block for both ways to run jobs: spark-submit's templates and the CRs'
    driver = pod_template("driver", "dev", APP["image"], "spark-driver", "1", 2048 + 384, "20Gi", "disk")
    assert spec["driver"]["template"] == {"metadata": driver["metadata"], "spec": driver["spec"]}
    [executor] = spec["executor"]["template"]["spec"]["containers"]
    assert executor["resources"]["limits"]["memory"] == f"{4096 + 409}Mi"  # max(4096 x 0.1, 384)
    assert (spec["driver"]["memoryOverhead"], spec["executor"]["memoryOverhead"]) == ("384m", "409m")


def test_application_sizes_and_dynamic_allocation_are_what_spark_reads() -> None:
    spec = spark_application(APP)["spec"]  # type: ignore[arg-type]
    assert (spec["driver"]["cores"], spec["driver"]["memory"]) == (1, "2048m")
    assert (spec["executor"]["cores"], spec["executor"]["memory"]) == (2, "4096m")
    assert spec["dynamicAllocation"] == {
        "enabled": True,
        "minExecutors": 1,
        "maxExecutors": 4,
        "shuffleTrackingEnabled": True,
    }
    assert "instances" not in spec["executor"]
    assert spec["memoryOverheadFactor"] == "0.1" and spec["restartPolicy"] == {"type": "Never"}
    assert spec["mode"] == "cluster" and spec["sparkVersion"] == "4.0.1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"spark_version": "2.4.8"},
            r"args\['spark_version'\]: 2\.4\.8: the operator applies pod templates only from Spark 3\.0\.0",
        ),
        (
            {"spark_conf": {"spark.kubernetes.namespace": "other"}},
            r"args\['spark_conf'\]: 'spark.kubernetes.namespace' is decided by",
        ),
        (
            {"executor": {"cores": 1, "memory": "1Gi", "instances": 2}},
            r"args\['executor'\]: instances and dynamic_allocation exclude",
        ),
        (
            {"dynamic_allocation": {"min_executors": 5, "max_executors": 2}},
            r"args\['dynamic_allocation'\]\['max_executors'\]: below min_executors",
        ),
        ({"name": "a" * 57}, r"args\['name'\]: .* at most 56"),
        ({"memory_overhead_factor": 11.0}, r"args\['memory_overhead_factor'\]: 11.0 is above 10.0"),
        (
            {"executor": {"cores": 1, "memory": "1000000Ki"}},
            r"args\['executor'\]\['memory'\]: .*whole number of MiB",
        ),
        ({"driver": {"cores": 1, "memory": "lots"}}, r"args\['driver'\]\['memory'\]"),
    ],
)
def test_bad_application_args_name_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgsError, match=message):
        OpenflowApplication("app", {**APP, **change})  # type: ignore[typeddict-item]


def test_a_scheduled_name_leaves_room_for_the_run_timestamp() -> None:
    with pytest.raises(ArgsError, match=r"args\['application'\]\['name'\]: .* at most 36"):
        OpenflowScheduledApplication("s", {"application": {**APP, "name": "a" * 37}, "schedule": "0 1 * * *"})  # type: ignore[typeddict-item]
    with pytest.raises(ArgsError, match=r"args\['time_zone'\]"):
        OpenflowScheduledApplication(
            "s", {"application": APP, "schedule": "0 1 * * *", "time_zone": "Mars/Base"}
        )  # type: ignore[typeddict-item]


def test_components_register_the_crs_under_their_type_tokens() -> None:
    regs = _register(OpenflowApplication, APP)
    [app] = [r for r in regs if r.type == "kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication"]
    assert app.inputs["spec"] == copy.deepcopy(spark_application(APP)["spec"])  # type: ignore[arg-type]
    assert any(r.type == "flow-platform:index:OpenflowApplication" for r in regs)
    regs = _register(OpenflowScheduledApplication, {"application": APP, "schedule": "17 3 * * *"})
    [scheduled] = [
        r for r in regs if r.type == "kubernetes:sparkoperator.k8s.io/v1beta2:ScheduledSparkApplication"
    ]
    assert scheduled.inputs["spec"]["concurrencyPolicy"] == "Forbid"
    assert scheduled.inputs["spec"]["template"] == spark_application(APP)["spec"]  # type: ignore[arg-type]


# --- the stacks -----------------------------------------------------------------------------------

K = "flow-platform:openflow"
SPARK_PI = {
    "name": "spark-pi",
    "mainClass": "org.apache.spark.examples.SparkPi",
    "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.13-4.0.1.jar",
    "arguments": ["1000"],
}


def _with_operator(block: dict[str, Any], *apps: dict[str, Any], manage: bool = True) -> None:
    """The committed stacks run no spark-operator: add one (the only CRD manager of its cluster)."""
    block["sparkOperator"] = {"cluster": "solo", "manageCrds": manage}
    block["applications"] = [dict(a) for a in apps]


def _openflow(mutate: Any, *apps: dict[str, Any]) -> Any:
    def change(config: dict[str, Any]) -> None:
        _with_operator(config[K], *(apps or (SPARK_PI,)))
        mutate(config[K])

    return change


SCHEDULED = {**SPARK_PI, "name": "spark-pi-nightly", "schedule": "17 2 * * *", "timeZone": "Europe/Warsaw"}


@pytest.mark.parametrize(
    ("title", "env", "mutate", "expected"),
    [
        (
            "applications without the operator",
            "dev",
            lambda b: b.pop("sparkOperator"),
            [f"{K}.applications", "needs sparkOperator"],
        ),
        (
            "more applications than concurrentApplications",
            "dev",
            lambda b: b["applications"].append({**SPARK_PI, "name": "second"}),
            [f"{K}.concurrentApplications", "1 is below the 2 applications"],
        ),
        (
            "an application name twice",
            "dev",
            lambda b: (b.__setitem__("concurrentApplications", 2), b["applications"].append(dict(SPARK_PI))),
            [f"{K}.applications[1].name", "'spark-pi' is used twice"],
        ),
        (
            "a scheduled name without room for the run timestamp",
            "dev",
            lambda b: b["applications"].__setitem__(0, {**SCHEDULED, "name": "a" * 37}),
            [f"{K}.applications[0].name", "at most 36"],
        ),
        (
            "runs side by side beyond the sized quota",
            "dev",
            lambda b: b["applications"].__setitem__(0, {**SCHEDULED, "concurrencyPolicy": "Allow"}),
            [f"{K}.applications[0].concurrencyPolicy", "use Forbid or Replace"],
        ),
        (
            "an unknown time zone",
            "dev",
            lambda b: b["applications"].__setitem__(0, {**SCHEDULED, "timeZone": "Mars/Base"}),
            [f"{K}.applications[0].timeZone", "not an IANA time zone"],
        ),
        (
            "a time zone without a schedule",
            "dev",
            lambda b: b["applications"][0].__setitem__("timeZone", "UTC"),
            [f"{K}.applications[0].timeZone", "only used with schedule"],
        ),
        (
            "a reserved Spark setting",
            "dev",
            lambda b: b["applications"][0].__setitem__("sparkConf", {"spark.kubernetes.namespace": "x"}),
            [f"{K}.applications[0].sparkConf.spark.kubernetes.namespace", "is decided by"],
        ),
        (
            "another controller version",
            "dev",
            lambda b: b["sparkOperator"].__setitem__(
                "image", {"repository": "ghcr.io/kubeflow/spark-operator/controller", "tag": "2.4.0"}
            ),
            [f"{K}.sparkOperator.image.tag", "chart 2.5.2"],
        ),
        (
            "no CRD manager on the cluster",
            "dev",
            lambda b: b["sparkOperator"].__setitem__("manageCrds", False),
            [f"{K}.sparkOperator.manageCrds", "no stack manages the spark-operator CRDs of cluster 'solo'"],
        ),
        (
            "applications with on-demand claims",
            "uat",
            lambda b: None,
            [f"{K}.applications", "not with onDemandClaims yet"],
        ),
    ],
    ids=lambda p: p if isinstance(p, str) and " " in p else None,
)
def test_bad_operator_config_is_a_clear_error_before_anything_is_registered(
    bad_config: Any, title: str, env: str, mutate: Any, expected: list[str]
) -> None:
    result = bad_config(env, _openflow(mutate))
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == [], f"{title}: resources were registered before the error"


def test_two_crd_managers_on_one_cluster_are_refused_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared operator mechanism (flow_platform_stacks.operators) with the openflow System's
    declaration: exactly one stack per cluster manages the spark-operator CRDs."""
    from types import SimpleNamespace

    from conftest import ROOT
    from flow_platform_stacks import operators
    from flow_platform_stacks.errors import ConfigError
    from flow_platform_stacks.systems.openflow import SYSTEM
    from flow_platform_stacks.systems.openflow.operator import SparkOperatorConfig

    others = {"tst": [("spark-operator", "shared", True)], "uat": [("flink", "shared", True)]}
    monkeypatch.setattr(operators, "_installs_of", lambda path: others.get(path.name.split(".")[1], []))
    manager = SimpleNamespace(
        spark_operator=SparkOperatorConfig.model_validate({"cluster": "shared", "manageCrds": True})
    )
    with pytest.raises(ConfigError) as error:
        SYSTEM.preflight(manager, "openflow-dev", "dev", ROOT)  # type: ignore[arg-type]
    message = str(error.value)
    assert "stacks dev, tst all manage the spark-operator CRDs of cluster 'shared'" in message
    assert "flow-platform:openflow.sparkOperator.manageCrds" in message
    reader = SimpleNamespace(spark_operator=SparkOperatorConfig.model_validate({"cluster": "shared"}))
    watched = SYSTEM.preflight(reader, "openflow-dev", "dev", ROOT)  # type: ignore[arg-type]
    assert watched == {"spark-operator": ("openflow-dev",)}
    del others["tst"]  # Flink's CRD manager does not manage Spark's
    with pytest.raises(ConfigError, match="no stack manages the spark-operator CRDs of cluster 'shared'"):
        SYSTEM.preflight(reader, "openflow-dev", "dev", ROOT)  # type: ignore[arg-type]
    without = SimpleNamespace(spark_operator=None)
    assert SYSTEM.preflight(without, "openflow-dev", "dev", ROOT) == {}  # type: ignore[arg-type]


def _objects_of(env: str, *apps: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    from conftest import raw_stack_yaml, run_config
    from flow_platform_stacks.tooling.render import kubernetes_objects

    config = copy.deepcopy(raw_stack_yaml(env)["config"])
    _with_operator(config[K], *apps)
    ecr = config.get("flow-platform:aws", {}).get("ecr")
    if ecr:  # the 2.5.2 controller image is published on ghcr.io only: its cache needs a credential
        ecr.setdefault("credentialArns", {})["ghcr"] = (
            "arn:aws:secretsmanager:us-west-2:111111111111:secret:ecr-pullthroughcache/ghcr"
        )
    registrations = run_config(env, config)
    return kubernetes_objects(registrations), registrations


def test_an_env_with_the_operator_runs_it_for_its_own_namespace_and_its_applications() -> None:
    objects, registrations = _objects_of("dev", SPARK_PI)
    [deployment] = [
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["namespace"] == "spark-operator-dev"
    ]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--namespaces=openflow-dev" in container["args"]
    assert container["image"].endswith("spark-operator/controller:2.5.2")
    crds = [
        r for r in registrations if r.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    ]
    assert {r.inputs["metadata"]["name"] for r in crds} >= {
        d["metadata"]["name"] for d in chart.crd_documents()
    }
    [app] = [o for o in objects if o["kind"] == "SparkApplication"]
    _validate_cr(app)
    spec = app["spec"]
    accounts = {
        o["metadata"]["name"]
        for o in objects
        if o["kind"] == "ServiceAccount" and o["metadata"]["namespace"] == "openflow-dev"
    }
    assert {spec["driver"]["serviceAccount"], spec["executor"]["serviceAccount"]} <= accounts
    # the block's sizes (dev: driver 1Gi, executors 2 x 2Gi), which its quota check covers
    assert (spec["driver"]["memory"], spec["executor"]["memory"], spec["executor"]["instances"]) == (
        "1024m",
        "2048m",
        2,
    )
    for obj in objects:
        if obj["metadata"].get("namespace") == "spark-operator-dev":
            kubernetes_validate.validate(obj, K8S, strict=True)
    app_component = next(r for r in registrations if r.type == "flow-platform:index:OpenflowApplication")
    operator = next(r for r in registrations if r.type == "flow-platform:index:SparkOperator")
    operator_parts = {operator.urn} | {r.urn for r in registrations if r.parent == operator.urn}
    # the CRs carry the operator's finalizers: created after it, deleted before it
    assert operator_parts & set(app_component.options.get("depends_on", []))


def test_a_scheduled_application_keeps_the_blocks_dynamic_allocation() -> None:
    objects, _ = _objects_of("tst", SCHEDULED)
    [scheduled] = [o for o in objects if o["kind"] == "ScheduledSparkApplication"]
    _validate_cr(scheduled)
    assert (
        scheduled["spec"]["timeZone"] == "Europe/Warsaw"
        and scheduled["spec"]["concurrencyPolicy"] == "Forbid"
    )
    assert scheduled["spec"]["template"]["dynamicAllocation"]["maxExecutors"] == 4
