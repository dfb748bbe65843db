"""The kubeflow spark-operator chart 2.5.2, rendered in Python: plain objects, no helm, no download.

``chart/`` beside this module is ``charts/spark-operator-chart`` of kubeflow/spark-operator at tag
``v2.5.2`` (Chart.yaml, values.yaml, templates/, crds/, unchanged; see chart/README.md).
:func:`render` mirrors the controller's and the Spark job namespaces' templates (``controller/*``,
``spark/*``) for every value they read, and refuses values that switch on the templates it does not
render (the webhook, the CRD-upgrade hook, cert-manager, the PodMonitor), so no value silently does
nothing. The chart's own helm-unittest suites for those templates run against it
(``tests/spark_operator_chart_tests``).
"""

from functools import cache
from pathlib import Path
from typing import Any

from ..k8s.chart import chart_yaml, load_crds, merge_values, unknown_value_keys

CHART_DIR = Path(__file__).parent / "chart"
CRD_FILES = "*.yaml"  # crds/ file names (read through crds.json: k8s.chart.load_crds)
CHART_NAME = "spark-operator"
CONTROLLER_CONTAINER = "spark-operator-controller"
HEALTH_PORT = 8081
"""The controller's health probes (/healthz, /readyz), fixed in the chart's deployment template."""

FREE_FORM = frozenset(
    {
        "commonLabels",
        "controller.labels",
        "controller.annotations",
        "controller.resources",
        "controller.podSecurityContext",
        "controller.securityContext",
        "controller.nodeSelector",
        "controller.affinity",
        "controller.rbac.annotations",
        "controller.serviceAccount.annotations",
        "controller.uiIngress.annotations",
        "spark.serviceAccount.annotations",
        "spark.rbac.annotations",
    }
)
"""Values the templates copy whole (``toYaml``): any Kubernetes field is meant, not a chart key."""

NOT_RENDERED = {
    "webhook.enable": "the mutating/validating webhook (flow-platform puts security context, volumes "
    "and env into spec.driver.template / spec.executor.template instead)",
    "hook.upgradeCrd": "the CRD-upgrade hook Job (the CRDs are Pulumi resources of one stack per cluster)",
    "certManager.enable": "cert-manager certificates (only the webhook uses them)",
    "prometheus.podMonitor.create": "the PodMonitor",
}
"""Values that switch on templates :func:`render` does not mirror; setting them true is refused."""


def chart_metadata() -> dict[str, Any]:
    """Chart.yaml (name, version, appVersion)."""
    return chart_yaml(CHART_DIR / "Chart.yaml")


def default_values() -> dict[str, Any]:
    """The chart's values.yaml (a fresh copy)."""
    return chart_yaml(CHART_DIR / "values.yaml")


@cache
def crd_documents() -> tuple[dict[str, Any], ...]:
    """The chart's CRDs as shipped (``crds/*.yaml``), sorted by name. Parsed once; do not mutate.

    All three are needed: the 2.5.2 controller starts a SparkConnect reconciler unconditionally
    (cmd/operator/controller/start.go), so it cannot start without that CRD either."""
    return load_crds(CHART_DIR, CRD_FILES)


def unknown_keys(override: dict[str, Any]) -> list[str]:
    """Keys of ``override`` that values.yaml does not have (Helm would ignore them silently)."""
    return unknown_value_keys(override, default_values(), FREE_FORM)


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    current: Any = values
    for part in dotted.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    return current


def _trunc(text: str) -> str:
    return text[:63].rstrip("-")


def _name(values: dict[str, Any]) -> str:
    return _trunc(str(values.get("nameOverride") or CHART_NAME))


def fullname(values: dict[str, Any], release: str) -> str:
    """``spark-operator.fullname``: the release name when it contains the chart name."""
    if values.get("fullnameOverride"):
        return _trunc(str(values["fullnameOverride"]))
    name = str(values.get("nameOverride") or CHART_NAME)
    return _trunc(release if name in release else f"{release}-{name}")


def controller_name(values: dict[str, Any], release: str) -> str:
    """Name of the controller's Deployment, ServiceAccount, ClusterRole and Roles."""
    return f"{fullname(values, release)}-controller"


def _selector_labels(values: dict[str, Any], release: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": _name(values), "app.kubernetes.io/instance": release}


def _labels(values: dict[str, Any], release: str) -> dict[str, str]:
    meta = chart_metadata()
    return {
        "helm.sh/chart": _trunc(f"{meta['name']}-{meta['version']}".replace("+", "_")),
        **_selector_labels(values, release),
        "app.kubernetes.io/version": str(meta["appVersion"]),
        "app.kubernetes.io/managed-by": "pulumi",  # Helm writes .Release.Service; nothing selects on it
        **{str(k): str(v) for k, v in (values.get("commonLabels") or {}).items()},
    }


def controller_selector_labels(values: dict[str, Any], release: str) -> dict[str, str]:
    """The controller pods' selector labels (NetworkPolicies select on them)."""
    return {**_selector_labels(values, release), "app.kubernetes.io/component": "controller"}


def _controller_labels(values: dict[str, Any], release: str) -> dict[str, str]:
    return {**_labels(values, release), "app.kubernetes.io/component": "controller"}


def _account_name(section: dict[str, Any], default: str) -> str:
    account = section["serviceAccount"]
    if account["create"]:
        return str(account.get("name") or default)
    return str(account.get("name") or "default")


def _image(values: dict[str, Any]) -> str:
    image = values["image"]
    return f"{image['registry']}/{image['repository']}:{image.get('tag') or chart_metadata()['appVersion']}"


def _meta(name: str, namespace: str | None, labels: dict[str, str], annotations: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = labels
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def controller_policy_rules(values: dict[str, Any]) -> list[dict[str, Any]]:
    """``spark-operator.controller.policyRules``: the controller in every Spark job namespace."""
    read = ["get", "list", "watch"]
    rules: list[dict[str, Any]] = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": [*read, "create", "update", "delete"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": [*read, "create", "update", "patch"]},
        {
            "apiGroups": [""],
            "resources": ["services"],
            "verbs": [*read, "create", "update", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
        {
            "apiGroups": ["extensions", "networking.k8s.io"],
            "resources": ["ingresses"],
            "verbs": ["get", "create", "update", "delete"],
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": ["sparkapplications"],
            "verbs": [*read, "create", "delete"],
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": ["scheduledsparkapplications", "sparkconnects"],
            "verbs": read,
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": [
                "sparkapplications/status",
                "sparkconnects/status",
                "scheduledsparkapplications/status",
            ],
            "verbs": ["update"],
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": ["sparkapplications/finalizers"],
            "verbs": ["update"],
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": ["scheduledsparkapplications/finalizers"],
            "verbs": ["update"],
        },
        {
            "apiGroups": ["sparkoperator.k8s.io"],
            "resources": ["sparkconnects/finalizers"],
            "verbs": ["update"],
        },
    ]
    if values["controller"]["batchScheduler"]["enable"]:
        rules.append(
            {
                "apiGroups": ["scheduling.incubator.k8s.io", "scheduling.sigs.dev", "scheduling.volcano.sh"],
                "resources": ["podgroups"],
                "verbs": ["*"],
            }
        )
    return rules


def _all_namespaces(values: dict[str, Any]) -> bool:
    namespaces = values["spark"]["jobNamespaces"]
    return not namespaces or "" in namespaces


def _controller_rbac(values: dict[str, Any], namespace: str, release: str) -> list[dict[str, Any]]:
    controller = values["controller"]
    if not controller["rbac"]["create"]:
        return []
    name = controller_name(values, release)
    labels = _controller_labels(values, release)
    annotations = controller["rbac"]["annotations"]
    api = "rbac.authorization.k8s.io/v1"
    account = {"kind": "ServiceAccount", "name": _account_name(controller, name), "namespace": namespace}
    selector = values["spark"]["jobNamespaceSelector"]
    cluster_rules: list[dict[str, Any]] = []
    if selector:
        cluster_rules.append(
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}
        )
    if _all_namespaces(values) or selector:
        cluster_rules += controller_policy_rules(values)
    cluster_rules.append(
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get"]}
    )
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
    own_rules: list[dict[str, Any]] = []
    if controller["leaderElection"]["enable"]:
        own_rules += [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {
                "apiGroups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resourceNames": [f"{name}-lock"],
                "verbs": ["get", "update"],
            },
        ]
    if namespace in values["spark"]["jobNamespaces"]:
        own_rules += controller_policy_rules(values)
    else:
        own_rules.append({"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]})
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": api,
            "kind": "ClusterRole",
            "metadata": _meta(name, None, labels, annotations),
            "rules": cluster_rules,
        },
        {
            "apiVersion": api,
            "kind": "ClusterRoleBinding",
            "metadata": _meta(name, None, labels, annotations),
            "subjects": [account],
            "roleRef": {**role_ref, "kind": "ClusterRole"},
        },
        {
            "apiVersion": api,
            "kind": "Role",
            "metadata": _meta(name, namespace, labels, annotations),
            "rules": own_rules,
        },
        {
            "apiVersion": api,
            "kind": "RoleBinding",
            "metadata": _meta(name, namespace, labels, annotations),
            "subjects": [account],
            "roleRef": role_ref,
        },
    ]
    if not _all_namespaces(values):
        for job_namespace in values["spark"]["jobNamespaces"]:
            if job_namespace == namespace:
                continue
            docs += [
                {
                    "apiVersion": api,
                    "kind": "Role",
                    "metadata": _meta(name, job_namespace, labels, annotations),
                    "rules": controller_policy_rules(values),
                },
                {
                    "apiVersion": api,
                    "kind": "RoleBinding",
                    "metadata": _meta(name, job_namespace, labels, annotations),
                    "subjects": [account],
                    "roleRef": role_ref,
                },
            ]
    return docs


def _controller_args(values: dict[str, Any], namespace: str, release: str) -> list[str]:
    controller, spark, metrics = values["controller"], values["spark"], values["prometheus"]["metrics"]
    args = ["controller", "start"]
    if controller["logLevel"]:
        args.append(f"--zap-log-level={controller['logLevel']}")
    if controller["logEncoder"]:
        args.append(f"--zap-encoder={controller['logEncoder']}")
    if spark["jobNamespaces"]:
        joined = ",".join(spark["jobNamespaces"])
        args.append('--namespaces=""' if "" in spark["jobNamespaces"] else f"--namespaces={joined}")
    if spark["jobNamespaceSelector"]:
        args.append(f"--namespace-selector={spark['jobNamespaceSelector']}")
    args.append(f"--controller-threads={controller['workers']}")
    args.append(f"--enable-ui-service={_go_bool(controller['uiService']['enable'])}")
    ingress = controller["uiIngress"]
    if ingress["enable"]:
        if ingress["urlFormat"]:
            args.append(f"--ingress-url-format={ingress['urlFormat']}")
        if ingress["ingressClassName"]:
            args.append(f"--ingress-class-name={ingress['ingressClassName']}")
        if ingress["tls"]:
            args.append(f"--ingress-tls={_to_json(ingress['tls'])}")
        if ingress["annotations"]:
            args.append(f"--ingress-annotations={_to_json(ingress['annotations'])}")
    scheduler = controller["batchScheduler"]
    if scheduler["enable"]:
        args.append("--enable-batch-scheduler=true")
        if scheduler["kubeSchedulerNames"]:
            args.append(f"--kube-scheduler-names={','.join(scheduler['kubeSchedulerNames'])}")
        if scheduler["default"]:
            args.append(f"--default-batch-scheduler={scheduler['default']}")
    if metrics["enable"]:
        args += [
            "--enable-metrics=true",
            f"--metrics-bind-address=:{metrics['port']}",
            f"--metrics-endpoint={metrics['endpoint']}",
            f"--metrics-prefix={metrics['prefix']}",
            f"--metrics-labels={metrics['labels'] or 'app_type'}",
            f"--metrics-job-submit-latency-buckets={metrics['jobSubmitLatencyBuckets']}",
            f"--metrics-job-start-latency-buckets={metrics['jobStartLatencyBuckets']}",
        ]
    election = controller["leaderElection"]
    if election["enable"]:
        args += [
            "--leader-election=true",
            f"--leader-election-lock-name={controller_name(values, release)}-lock",
            f"--leader-election-lock-namespace={namespace}",
            f"--leader-election-lease-duration={election['leaseDuration']}",
            f"--leader-election-renew-deadline={election['renewDeadline']}",
            f"--leader-election-retry-period={election['retryPeriod']}",
        ]
    else:
        args.append("--leader-election=false")
    if controller["pprof"]["enable"]:
        args.append(f"--pprof-bind-address=:{controller['pprof']['port']}")
    limiter = controller["workqueueRateLimiter"]
    args.append(f"--workqueue-ratelimiter-bucket-qps={limiter['bucketQPS']}")
    args.append(f"--workqueue-ratelimiter-bucket-size={limiter['bucketSize']}")
    if limiter["maxDelay"]["enable"]:
        args.append(f"--workqueue-ratelimiter-max-delay={limiter['maxDelay']['duration']}")
    for key, flag in (
        ("driverPodCreationGracePeriod", "driver-pod-creation-grace-period"),
        ("maxTrackedExecutorPerApp", "max-tracked-executor-per-app"),
        ("kubeAPIQPS", "kube-api-qps"),
        ("kubeAPIBurst", "kube-api-burst"),
        ("scheduledSparkApplicationTimestampPrecision", "scheduled-spark-application-timestamp-precision"),
    ):
        if controller.get(key):
            args.append(f"--{flag}={controller[key]}")
    if controller["featureGates"]:
        gates = ",".join(f"{g['name']}={_go_bool(g['enabled'])}" for g in controller["featureGates"])
        args.append(f"--feature-gates={gates}")
    return args


def _go_bool(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _to_json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _kube_at_least(kube_version: tuple[int, int], minimum: tuple[int, int]) -> bool:
    return kube_version >= minimum


def _controller_deployment(
    values: dict[str, Any], namespace: str, release: str, kube_version: tuple[int, int]
) -> dict[str, Any]:
    controller, metrics = values["controller"], values["prometheus"]["metrics"]
    name = controller_name(values, release)
    selector = controller_selector_labels(values, release)
    container: dict[str, Any] = {"name": CONTROLLER_CONTAINER, "image": _image(values)}
    if values["image"]["pullPolicy"]:
        container["imagePullPolicy"] = values["image"]["pullPolicy"]
    container["args"] = _controller_args(values, namespace, release)
    ports = []
    if controller["pprof"]["enable"]:
        ports.append({"name": controller["pprof"]["portName"], "containerPort": controller["pprof"]["port"]})
    if metrics["enable"]:
        ports.append({"name": metrics["portName"], "containerPort": metrics["port"]})
    if ports:
        container["ports"] = ports
    for key in ("env", "envFrom", "volumeMounts", "resources"):
        if controller[key]:
            container[key] = controller[key]
    container["livenessProbe"] = {"httpGet": {"port": HEALTH_PORT, "scheme": "HTTP", "path": "/healthz"}}
    container["readinessProbe"] = {"httpGet": {"port": HEALTH_PORT, "scheme": "HTTP", "path": "/readyz"}}
    if controller["securityContext"]:
        container["securityContext"] = controller["securityContext"]
    spec: dict[str, Any] = {"containers": [container, *(controller["sidecars"] or [])]}
    if values["image"]["pullSecrets"]:
        spec["imagePullSecrets"] = values["image"]["pullSecrets"]
    for key in ("volumes", "nodeSelector", "affinity"):
        if controller[key]:
            spec[key] = controller[key]
    if _kube_at_least(kube_version, (1, 30)) and isinstance(controller["hostUsers"], bool):
        spec["hostUsers"] = controller["hostUsers"]
    if controller["tolerations"]:
        spec["tolerations"] = controller["tolerations"]
    if controller["priorityClassName"]:
        spec["priorityClassName"] = controller["priorityClassName"]
    spec["serviceAccountName"] = _account_name(controller, name)
    spec["automountServiceAccountToken"] = controller["serviceAccount"]["automountServiceAccountToken"]
    if controller["podSecurityContext"]:
        spec["securityContext"] = controller["podSecurityContext"]
    if controller["topologySpreadConstraints"]:
        if int(controller["replicas"]) <= 1:
            raise ValueError(
                "controller.replicas must be greater than 1 to enable topology spread constraints"
                " for controller pods"
            )
        spec["topologySpreadConstraints"] = [
            {**c, "labelSelector": {"matchLabels": selector}} for c in controller["topologySpreadConstraints"]
        ]
    annotations: dict[str, str] = {}
    if metrics["enable"]:
        annotations = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(metrics["port"]),
            "prometheus.io/path": str(metrics["endpoint"]),
        }
    annotations.update({str(k): str(v) for k, v in (controller["annotations"] or {}).items()})
    template_meta: dict[str, Any] = {"labels": {**selector, **(controller["labels"] or {})}}
    if annotations:
        template_meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": _controller_labels(values, release)},
        "spec": {
            "replicas": controller["replicas"],
            "revisionHistoryLimit": controller["revisionHistoryLimit"],
            "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": spec},
        },
    }


def _controller_service_account(values: dict[str, Any], namespace: str, release: str) -> list[dict[str, Any]]:
    controller = values["controller"]
    if not controller["serviceAccount"]["create"]:
        return []
    account = controller["serviceAccount"]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "automountServiceAccountToken": account["automountServiceAccountToken"],
            "metadata": _meta(
                _account_name(controller, controller_name(values, release)),
                namespace,
                _controller_labels(values, release),
                account["annotations"],
            ),
        }
    ]


def _controller_service(values: dict[str, Any], namespace: str, release: str) -> list[dict[str, Any]]:
    pprof = values["controller"]["pprof"]
    if not pprof["enable"]:
        return []
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": f"{controller_name(values, release)}-svc",
                "namespace": namespace,
                "labels": _controller_labels(values, release),
            },
            "spec": {
                "selector": controller_selector_labels(values, release),
                "ports": [
                    {"port": pprof["port"], "targetPort": pprof["portName"], "name": pprof["portName"]}
                ],
            },
        }
    ]


def _controller_pdb(values: dict[str, Any], namespace: str, release: str) -> list[dict[str, Any]]:
    controller = values["controller"]
    budget = controller["podDisruptionBudget"]
    if not budget["enable"]:
        return []
    if int(controller["replicas"]) <= 1:
        raise ValueError(
            "controller.replicas must be greater than 1 to enable pod disruption budget for controller"
        )
    spec: dict[str, Any] = {"selector": {"matchLabels": controller_selector_labels(values, release)}}
    if budget["minAvailable"]:
        spec["minAvailable"] = budget["minAvailable"]
    return [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {
                "name": f"{controller_name(values, release)}-pdb",
                "namespace": namespace,
                "labels": _controller_labels(values, release),
            },
            "spec": spec,
        }
    ]


def spark_rules() -> list[dict[str, Any]]:
    """spark/rbac.yaml: what the chart's Spark driver account may do in each job namespace."""
    return [
        {
            "apiGroups": [""],
            "resources": ["pods", "configmaps", "persistentvolumeclaims", "services"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
        }
    ]


def _spark_objects(values: dict[str, Any], release: str) -> dict[str, list[dict[str, Any]]]:
    spark = values["spark"]
    account = _account_name(spark, f"{fullname(values, release)}-spark")
    labels = _labels(values, release)
    namespaces = [ns for ns in (spark["jobNamespaces"] or []) if ns != ""]
    accounts: list[dict[str, Any]] = []
    rbac: list[dict[str, Any]] = []
    for ns in namespaces:
        if spark["serviceAccount"]["create"]:
            accounts.append(
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "automountServiceAccountToken": spark["serviceAccount"]["automountServiceAccountToken"],
                    "metadata": _meta(account, ns, labels, spark["serviceAccount"]["annotations"]),
                }
            )
        if spark["rbac"]["create"]:
            rbac += [
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": _meta(account, ns, labels, spark["rbac"]["annotations"]),
                    "rules": spark_rules(),
                },
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": _meta(account, ns, labels, spark["rbac"]["annotations"]),
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
                },
            ]
    return {"spark/serviceaccount.yaml": accounts, "spark/rbac.yaml": rbac}


def render(
    overrides: dict[str, Any],
    namespace: str,
    release: str = CHART_NAME,
    kube_version: tuple[int, int] = (1, 32),
) -> dict[str, list[dict[str, Any]]]:
    """The chart's objects for ``overrides`` (merged over values.yaml), by template file.

    Raises ``ValueError`` for a key values.yaml lacks, a value that switches on a template this
    renderer does not mirror (:data:`NOT_RENDERED`), or what the chart itself fails on."""
    unknown = unknown_keys(overrides)
    if unknown:
        raise ValueError(f"not values of {CHART_NAME} {chart_metadata()['version']}: {', '.join(unknown)}")
    values = merge_values(default_values(), overrides)
    switched_on = [f"{key} ({why})" for key, why in NOT_RENDERED.items() if _lookup(values, key)]
    if switched_on:
        raise ValueError(f"values flow-platform does not render: {'; '.join(switched_on)}")
    return {
        "controller/serviceaccount.yaml": _controller_service_account(values, namespace, release),
        "controller/rbac.yaml": _controller_rbac(values, namespace, release),
        "controller/deployment.yaml": [_controller_deployment(values, namespace, release, kube_version)],
        "controller/service.yaml": _controller_service(values, namespace, release),
        "controller/poddisruptionbudget.yaml": _controller_pdb(values, namespace, release),
        **_spark_objects(values, release),
    }
