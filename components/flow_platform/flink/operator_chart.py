"""The Flink Kubernetes Operator chart 1.15.0, rendered in Python: plain objects, no helm, no download.

``chart/`` beside this module is the chart of apache/flink-kubernetes-operator at tag
``release-1.15.0`` (``helm/flink-kubernetes-operator``: Chart.yaml, values.yaml, conf/, templates/,
crds/). :func:`render` mirrors its templates for the values it supports and refuses any other value
it is given, so a value never silently does nothing (Helm's own failure mode). The chart's
helm-unittest suites (``tests/flink_chart_tests``) run against it, and the operator's objects are
registered as ordinary resources, so the offline render and policy check see exactly what the
cluster gets.
"""

from functools import cache
from pathlib import Path
from typing import Any

from ..k8s.chart import chart_text, chart_yaml, load_crds, merge_values, unknown_value_keys

CHART_DIR = Path(__file__).parent / "chart"
CRD_FILES = "*.yml"  # crds/ file names (read through crds.json: k8s.chart.load_crds)
CHART_NAME = "flink-kubernetes-operator"
WEBHOOK_PORT = 9443

# Values of the chart that render() implements; any other key differing from values.yaml is refused.
SUPPORTED = {
    "watchNamespaces",
    "image",
    "imagePullSecrets",
    "replicas",
    "strategy",
    "rbac",
    "operatorPod",
    "operatorServiceAccount",
    "jobServiceAccount",
    "podSecurityContext",
    "operatorSecurityContext",
    "webhookSecurityContext",
    "webhook",
    "defaultConfiguration",
    "logging",
    "jvmArgs",
    "operatorHealth",
    "nameOverride",
}


def chart_metadata() -> dict[str, Any]:
    """Chart.yaml (name, version, appVersion)."""
    return chart_yaml(CHART_DIR / "Chart.yaml")


def default_values() -> dict[str, Any]:
    """The chart's values.yaml (a fresh copy)."""
    return chart_yaml(CHART_DIR / "values.yaml")


@cache
def crd_documents() -> tuple[dict[str, Any], ...]:
    """The chart's CRDs, as shipped (``crds/*.yml``), sorted by name. Parsed once; do not mutate."""
    return load_crds(CHART_DIR, CRD_FILES)


FREE_FORM = {
    "podSecurityContext",
    "operatorSecurityContext",
    "webhookSecurityContext",
    "strategy",
    "operatorPod.resources",
    "operatorPod.labels",
    "operatorPod.annotations",
    "operatorPod.webhook.resources",
}
"""Values the templates copy whole (``toYaml``): any Kubernetes field is meant, not a chart key."""


def unknown_keys(override: dict[str, Any]) -> list[str]:
    """Keys of ``override`` that values.yaml does not have (Helm would ignore them silently)."""
    return unknown_value_keys(override, default_values(), FREE_FORM)


def _name(values: dict[str, Any]) -> str:
    return str(values.get("nameOverride") or CHART_NAME)[:63].rstrip("-")


def _labels(values: dict[str, Any]) -> dict[str, str]:
    meta = chart_metadata()
    return {
        "app.kubernetes.io/name": _name(values),
        "app.kubernetes.io/version": str(meta["appVersion"]),
        "app.kubernetes.io/managed-by": "pulumi",
        "helm.sh/chart": f"{meta['name']}-{meta['version']}",
    }


def _fullname(release: str) -> str:
    return (release if CHART_NAME in release else f"{release}-{CHART_NAME}")[:63].rstrip("-")


def _service_account(values: dict[str, Any], release: str) -> str:
    account = values["operatorServiceAccount"]
    if account["create"]:
        return str(account.get("name") or _fullname(release))
    return str(account.get("name") or "default")


def _image(values: dict[str, Any]) -> str:
    image = values["image"]
    if image.get("digest"):
        return f"{image['repository']}@{image['digest']}"
    return f"{image['repository']}:{image.get('tag') or chart_metadata()['appVersion']}"


def _log_config(values: dict[str, Any]) -> str:
    if values["logging"]["framework"] == "logback":
        return "-Dlogback.configurationFile=/opt/flink/conf/logback-operator.xml"
    return "-Dlog4j.configurationFile=/opt/flink/conf/log4j-operator.properties"


def _webhook_flags(values: dict[str, Any]) -> tuple[bool, bool]:
    """(validating, mutating) as the chart's webhook/_helpers.tpl decides them."""
    webhook = values["webhook"]
    validating = bool(webhook["validator"]["create"]) if "validator" in webhook else bool(webhook["create"])
    mutating = bool(webhook["mutator"]["create"]) if "mutator" in webhook else bool(webhook["create"])
    return validating, mutating


def _field_env(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def _probe(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "httpGet": {"path": "/", "port": "health-port"}}


def _operator_container(values: dict[str, Any]) -> dict[str, Any]:
    pod, health = values["operatorPod"], values.get("operatorHealth")
    ports = []
    if (values.get("metrics") or {}).get("port"):
        ports.append({"containerPort": values["metrics"]["port"], "name": "metrics", "protocol": "TCP"})
    if health:
        ports.append({"containerPort": health["port"], "name": "health-port", "protocol": "TCP"})
    env = [
        _field_env("OPERATOR_NAMESPACE", "metadata.namespace"),
        _field_env("HOST_IP", "status.hostIP"),
        _field_env("POD_IP", "status.podIP"),
        _field_env("POD_NAME", "metadata.name"),
        {"name": "OPERATOR_NAME", "value": _name(values)},
        {"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"},
        {"name": "FLINK_PLUGINS_DIR", "value": "/opt/flink/plugins"},
        {"name": "LOGGING_FRAMEWORK", "value": values["logging"]["framework"]},
        {"name": "LOG_CONFIG", "value": _log_config(values)},
        {"name": "JVM_ARGS", "value": values["jvmArgs"]["operator"]},
        *(pod.get("env") or []),
    ]
    container: dict[str, Any] = {
        "name": CHART_NAME,
        "image": _image(values),
        "imagePullPolicy": values["image"]["pullPolicy"],
        "command": ["/docker-entrypoint.sh", "operator"],
        "ports": ports,
        "env": env,
    }
    if pod.get("envFrom"):
        container["envFrom"] = pod["envFrom"]
    container["resources"] = pod.get("resources") or {}
    container["securityContext"] = values.get("operatorSecurityContext") or {}
    container["volumeMounts"] = [
        {"name": "flink-operator-config-volume", "mountPath": "/opt/flink/conf"},
        {"name": "flink-artifacts-volume", "mountPath": "/opt/flink/artifacts"},
    ]
    if health and health.get("livenessProbe"):
        container["livenessProbe"] = _probe(health["livenessProbe"])
    if health and health.get("startupProbe"):
        container["startupProbe"] = _probe(health["startupProbe"])
    return container


def _webhook_container(values: dict[str, Any]) -> dict[str, Any]:
    keystore = values["webhook"]["keystore"]
    secret_ref = (
        {"name": "flink-operator-webhook-secret", "key": "password"}
        if keystore["useDefaultPassword"]
        else dict(keystore["passwordSecretRef"] or {})
    )
    return {
        "name": "flink-webhook",
        "image": _image(values),
        "imagePullPolicy": values["image"]["pullPolicy"],
        "command": ["/docker-entrypoint.sh", "webhook"],
        "env": [
            {"name": "WEBHOOK_KEYSTORE_PASSWORD", "valueFrom": {"secretKeyRef": secret_ref}},
            {"name": "WEBHOOK_KEYSTORE_FILE", "value": "/certs/keystore.p12"},
            {"name": "WEBHOOK_KEYSTORE_TYPE", "value": "pkcs12"},
            {"name": "WEBHOOK_SERVER_PORT", "value": str(WEBHOOK_PORT)},
            {"name": "LOG_CONFIG", "value": _log_config(values)},
            {"name": "JVM_ARGS", "value": values["jvmArgs"]["webhook"]},
            {"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"},
            {"name": "FLINK_PLUGINS_DIR", "value": "/opt/flink/plugins"},
            {"name": "LOGGING_FRAMEWORK", "value": values["logging"]["framework"]},
            _field_env("OPERATOR_NAMESPACE", "metadata.namespace"),
            *(values["operatorPod"]["webhook"]["container"].get("env") or []),
        ],
        "resources": values["operatorPod"]["webhook"].get("resources") or {},
        "securityContext": values.get("webhookSecurityContext") or {},
        "volumeMounts": [
            {"name": "keystore", "mountPath": "/certs", "readOnly": True},
            {"name": "flink-operator-config-volume", "mountPath": "/opt/flink/conf"},
        ],
    }


def _deployment(values: dict[str, Any], namespace: str, release: str) -> dict[str, Any]:
    pod = values["operatorPod"]
    selector = {"app.kubernetes.io/name": _name(values)}
    webhook = any(_webhook_flags(values))
    spec: dict[str, Any] = {}
    if pod.get("priorityClassName"):
        spec["priorityClassName"] = pod["priorityClassName"]
    spec["securityContext"] = values.get("podSecurityContext") or {}
    for key in ("nodeSelector", "affinity", "tolerations", "topologySpreadConstraints"):
        if pod.get(key):
            spec[key] = pod[key]
    if values.get("imagePullSecrets"):
        spec["imagePullSecrets"] = values["imagePullSecrets"]
    spec["serviceAccountName"] = _service_account(values, release)
    if pod.get("initContainers"):
        spec["initContainers"] = pod["initContainers"]
    spec["containers"] = [_operator_container(values)]
    if webhook:
        spec["containers"].append(_webhook_container(values))
    spec["containers"] += pod.get("sidecarContainers") or []
    if pod.get("dnsPolicy"):
        spec["dnsPolicy"] = pod["dnsPolicy"]
    if pod.get("dnsConfig"):
        spec["dnsConfig"] = pod["dnsConfig"]
    conf_key = "flink-conf.yaml" if "flink-conf.yaml" in values["defaultConfiguration"] else "config.yaml"
    logs = (
        ["logback-operator.xml", "logback-console.xml"]
        if values["logging"]["framework"] == "logback"
        else ["log4j-operator.properties", "log4j-console.properties"]
    )
    spec["volumes"] = [
        {
            "name": "flink-operator-config-volume",
            "configMap": {
                "name": "flink-operator-config",
                "items": [{"key": k, "path": k} for k in (conf_key, *logs)],
            },
        },
        {"name": "flink-artifacts-volume", "emptyDir": {}},
    ]
    if webhook:
        spec["volumes"].append(
            {
                "name": "keystore",
                "secret": {
                    "secretName": "webhook-server-cert",
                    "items": [{"key": "keystore.p12", "path": "keystore.p12"}],
                },
            }
        )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": _name(values),
            "namespace": namespace,
            "labels": {**_labels(values), **(pod.get("labels") or {})},
        },
        "spec": {
            "replicas": values["replicas"],
            "strategy": values["strategy"],
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": {**selector, **(pod.get("labels") or {})},
                    "annotations": {
                        "kubectl.kubernetes.io/default-container": CHART_NAME,
                        **(pod.get("annotations") or {}),
                    },
                },
                "spec": spec,
            },
        },
    }


def _config_text(values: dict[str, Any], key: str, default_file: str) -> str:
    """One ConfigMap key: the chart's conf/ file (when appending), the override, the watch list."""
    settings = values["defaultConfiguration"]
    parts = []
    if settings["append"]:
        parts.append(chart_text(CHART_DIR / "conf" / default_file).rstrip("\n"))
    if settings.get(key):
        parts.append(str(settings[key]).rstrip("\n"))
    if key in ("config.yaml", "flink-conf.yaml"):
        if values["watchNamespaces"]:
            parts.append(f"kubernetes.operator.watched.namespaces: {','.join(values['watchNamespaces'])}")
        if values.get("operatorHealth"):
            parts.append("kubernetes.operator.health.probe.enabled: true")
            parts.append(f"kubernetes.operator.health.probe.port: {values['operatorHealth']['port']}")
    return "\n".join(parts) + "\n"


def _config_map(values: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    settings = values["defaultConfiguration"]
    if not settings["create"]:
        return []
    data = {
        "config.yaml": _config_text(values, "config.yaml", "flink-conf.yaml"),
        "flink-conf.yaml": _config_text(values, "flink-conf.yaml", "flink-conf.yaml"),
        "log4j-operator.properties": _config_text(
            values, "log4j-operator.properties", "log4j-operator.properties"
        ),
        "log4j-console.properties": _config_text(
            values, "log4j-console.properties", "log4j-console.properties"
        ),
        "logback-operator.xml": _config_text(values, "logback-operator.xml", "logback-operator.xml"),
        "logback-console.xml": _config_text(values, "logback-console.xml", "logback-console.xml"),
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "flink-operator-config", "namespace": namespace, "labels": _labels(values)},
            "data": data,
        }
    ]


def _operator_rules(values: dict[str, Any]) -> list[dict[str, Any]]:
    """rbac/_helpers.tpl ``flink-operator.rbacRules``."""
    crud = ["get", "list", "watch", "create", "update", "patch", "delete"]
    rules: list[dict[str, Any]] = [
        {
            "apiGroups": [""],
            "resources": ["pods", "services", "events", "configmaps", "secrets"],
            "verbs": [*crud, "deletecollection"],
        }
    ]
    if values["rbac"]["nodesRule"]["create"]:
        rules.append({"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]})
    kinds = ["flinkbluegreendeployments", "flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"]
    rules += [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments", "deployments/finalizers", "replicasets"],
            "verbs": crud,
        },
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "update", "patch"]},
        {"apiGroups": ["extensions"], "resources": ["deployments", "ingresses"], "verbs": crud},
        {
            "apiGroups": ["flink.apache.org"],
            "resources": [r for k in kinds for r in (k, f"{k}/finalizers")],
            "verbs": crud,
        },
        {
            "apiGroups": ["flink.apache.org"],
            "resources": [f"{k}/status" for k in kinds],
            "verbs": ["get", "update", "patch"],
        },
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": crud},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": crud},
    ]
    return rules


def _rbac(values: dict[str, Any], namespace: str, release: str) -> dict[str, list[dict[str, Any]]]:
    rbac, watched = values["rbac"], values["watchNamespaces"]
    labels = _labels(values)
    role_name = rbac["operatorRole"]["name"] or _fullname(release)
    binding_name = rbac["operatorRoleBinding"]["name"] or _fullname(release)
    account = {"kind": "ServiceAccount", "name": _service_account(values, release), "namespace": namespace}
    role_api = "rbac.authorization.k8s.io/v1"
    out: dict[str, list[dict[str, Any]]] = {
        "rbac/role.yaml": [],
        "rbac/role_binding.yaml": [],
        "rbac/cluster_role.yaml": [],
        "rbac/cluster_role_binding.yaml": [],
    }
    if rbac["create"] and rbac["operatorRole"]["create"]:
        if watched:
            for ns in watched:
                meta = {"name": role_name, "namespace": ns, "labels": labels}
                out["rbac/role.yaml"].append(
                    {
                        "apiVersion": role_api,
                        "kind": "Role",
                        "metadata": meta,
                        "rules": _operator_rules(values),
                    }
                )
            if namespace not in watched:
                crud = ["get", "list", "watch", "create", "update", "patch", "delete"]
                out["rbac/role.yaml"].append(
                    {
                        "apiVersion": role_api,
                        "kind": "Role",
                        "metadata": {"name": role_name, "namespace": namespace, "labels": labels},
                        "rules": [
                            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": crud},
                            {
                                "apiGroups": ["flink.apache.org"],
                                "resources": ["flinkstatesnapshots"],
                                "verbs": ["list"],
                            },
                        ],
                    }
                )
        else:
            out["rbac/cluster_role.yaml"].append(
                {
                    "apiVersion": role_api,
                    "kind": "ClusterRole",
                    "metadata": {"name": role_name, "labels": labels},
                    "rules": _operator_rules(values),
                }
            )
    if rbac["create"] and rbac["operatorRoleBinding"]["create"]:
        kind = "ClusterRole" if ":" in role_name else "Role"
        if watched:
            for ns in [*watched, *([namespace] if namespace not in watched else [])]:
                out["rbac/role_binding.yaml"].append(
                    {
                        "apiVersion": role_api,
                        "kind": "RoleBinding",
                        "metadata": {"name": binding_name, "namespace": ns, "labels": labels},
                        "roleRef": {
                            "kind": kind if ns in watched else "Role",
                            "name": role_name,
                            "apiGroup": "rbac.authorization.k8s.io",
                        },
                        "subjects": [account],
                    }
                )
        else:
            out["rbac/cluster_role_binding.yaml"].append(
                {
                    "apiVersion": role_api,
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": binding_name, "labels": labels},
                    "roleRef": {
                        "kind": "ClusterRole",
                        "name": role_name,
                        "apiGroup": "rbac.authorization.k8s.io",
                    },
                    "subjects": [account],
                }
            )
    return out


def _webhook(values: dict[str, Any], namespace: str) -> dict[str, list[dict[str, Any]]]:
    validating, mutating = _webhook_flags(values)
    webhook = values["webhook"]
    out: dict[str, list[dict[str, Any]]] = {
        "webhook/secret.yaml": [],
        "webhook/service.yaml": [],
        "webhook/validating_webhook_configuration.yaml": [],
        "webhook/mutating_webhook_configuration.yaml": [],
        "cert-manager/issuer.yaml": [],
        "cert-manager/certificate.yaml": [],
    }
    if not (validating or mutating):
        return out
    keystore = webhook["keystore"]
    password_ref = (
        {"name": "flink-operator-webhook-secret", "key": "password"}
        if keystore["useDefaultPassword"]
        else dict(keystore["passwordSecretRef"] or {})
    )
    if keystore["useDefaultPassword"]:
        out["webhook/secret.yaml"].append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "flink-operator-webhook-secret", "namespace": namespace},
                "type": "Opaque",
                "data": {"password": "cGFzc3dvcmQxMjM0"},
            }
        )
    service_meta: dict[str, Any] = {"name": "flink-operator-webhook-service", "namespace": namespace}
    if webhook.get("serviceLabels"):
        service_meta["labels"] = dict(webhook["serviceLabels"])
    out["webhook/service.yaml"].append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": service_meta,
            "spec": {
                "ports": [{"port": 443, "targetPort": WEBHOOK_PORT}],
                "selector": {"app.kubernetes.io/name": _name(values)},
            },
        }
    )
    selector = (
        {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": values["watchNamespaces"]}
            ]
        }
        if values["watchNamespaces"]
        else None
    )
    for enabled, kind, hook, path, template in (
        (validating, "ValidatingWebhookConfiguration", "validationwebhook", "/validate", "validating"),
        (mutating, "MutatingWebhookConfiguration", "mutationwebhook", "/mutate", "mutating"),
    ):
        if not enabled:
            continue
        operations = ["CREATE", "UPDATE"]
        resources = (
            ["flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"]
            if template == "validating"
            else ["flinksessionjobs", "flinkdeployments"]
        )
        entry: dict[str, Any] = {
            "name": f"{hook}.flink.apache.org",
            "admissionReviewVersions": ["v1"],
            "clientConfig": {
                "service": {"name": "flink-operator-webhook-service", "namespace": namespace, "path": path}
            },
            "failurePolicy": "Fail",
            "rules": [
                {
                    "apiGroups": ["flink.apache.org"],
                    "apiVersions": ["*"],
                    "scope": "Namespaced",
                    "operations": operations,
                    "resources": resources,
                }
            ],
            "sideEffects": "None",
        }
        if selector:
            entry["namespaceSelector"] = selector
        out[f"webhook/{template}_webhook_configuration.yaml"].append(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": kind,
                "metadata": {
                    "annotations": {
                        "cert-manager.io/inject-ca-from": f"{namespace}/flink-operator-serving-cert"
                    },
                    "name": f"flink-operator-{namespace}-webhook-configuration",
                },
                "webhooks": [entry],
            }
        )
    out["cert-manager/issuer.yaml"].append(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "flink-operator-selfsigned-issuer", "namespace": namespace},
            "spec": {"selfSigned": {}},
        }
    )
    out["cert-manager/certificate.yaml"].append(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "flink-operator-serving-cert", "namespace": namespace},
            "spec": {
                "dnsNames": [
                    f"flink-operator-webhook-service.{namespace}.svc",
                    f"flink-operator-webhook-service.{namespace}.svc.cluster.local",
                ],
                "keystores": {"pkcs12": {"create": True, "passwordSecretRef": password_ref}},
                "issuerRef": {"kind": "Issuer", "name": "flink-operator-selfsigned-issuer"},
                "commonName": "FlinkDeployment Validator",
                "secretName": "webhook-server-cert",
            },
        }
    )
    return out


def _job_rbac(values: dict[str, Any], namespace: str, release: str) -> dict[str, list[dict[str, Any]]]:
    """flink/*.yaml: the chart's job account and role (flow-platform turns them off: each
    FlinkCluster brings its own, scoped to what its JobManager and TaskManagers need)."""
    rbac, account_values = values["rbac"], values["jobServiceAccount"]
    fullname = _fullname(release)
    account = account_values["name"] or (fullname if account_values["create"] else "default")
    role = rbac["jobRole"]["name"] or (fullname if rbac["jobRoleBinding"]["create"] else "default")
    binding = rbac["jobRoleBinding"]["name"] or (fullname if rbac["jobRole"]["create"] else "default")
    namespaces = values["watchNamespaces"] or [namespace]
    labels = _labels(values)
    keep = {"helm.sh/resource-policy": "keep"}
    crud = ["get", "list", "watch", "create", "update", "patch", "delete"]
    rules = [
        {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": crud},
        {"apiGroups": ["apps"], "resources": ["deployments", "deployments/finalizers"], "verbs": crud},
    ]
    out: dict[str, list[dict[str, Any]]] = {
        "flink/role.yaml": [],
        "flink/role_binding.yaml": [],
        "flink/service_account.yaml": [],
    }
    for ns in namespaces:
        meta = {"namespace": ns, "labels": labels, "annotations": keep}
        if rbac["create"] and rbac["jobRole"]["create"]:
            out["flink/role.yaml"].append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": role, **meta},
                    "rules": rules,
                }
            )
        if rbac["create"] and rbac["jobRoleBinding"]["create"]:
            out["flink/role_binding.yaml"].append(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": binding, **meta},
                    "roleRef": {
                        "kind": "ClusterRole" if ":" in role and values["watchNamespaces"] else "Role",
                        "name": role,
                        "apiGroup": "rbac.authorization.k8s.io",
                    },
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
                }
            )
        if account_values["create"]:
            account_meta: dict[str, Any] = {"name": account, "namespace": ns, "labels": labels}
            if account_values["annotations"]:
                account_meta["annotations"] = dict(account_values["annotations"])
            out["flink/service_account.yaml"].append(
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account_meta}
            )
    return out


def render(
    overrides: dict[str, Any], namespace: str, release: str = "flink-operator"
) -> dict[str, list[dict[str, Any]]]:
    """The chart's objects for ``overrides`` (merged over values.yaml), by template file.

    Raises ``ValueError`` for a top-level key values.yaml lacks or a value this renderer does not
    implement (nested keys the templates read, such as ``webhook.validator``, are not all in it).
    """
    unknown = sorted(set(overrides) - set(default_values()))
    if unknown:
        raise ValueError(f"not values of {CHART_NAME} {chart_metadata()['version']}: {', '.join(unknown)}")
    unsupported = sorted(set(overrides) - SUPPORTED)
    if unsupported:
        raise ValueError(f"values flow-platform does not render: {', '.join(unsupported)}")
    values = merge_values(default_values(), overrides)
    for key in ("operatorVolumes", "operatorVolumeMounts", "tls"):
        if values[key]["create"]:
            raise ValueError(f"{key}.create is not rendered by flow-platform")
    if values["postStart"] or values["metrics"]["port"]:
        raise ValueError("postStart and metrics.port are not rendered by flow-platform")
    account: list[dict[str, Any]] = []
    if values["operatorServiceAccount"]["create"]:
        meta: dict[str, Any] = {
            "name": _service_account(values, release),
            "namespace": namespace,
            "labels": _labels(values),
        }
        if values["operatorServiceAccount"]["annotations"]:
            meta["annotations"] = dict(values["operatorServiceAccount"]["annotations"])
        account.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    return {
        "rbac/service_account.yaml": account,
        **_rbac(values, namespace, release),
        **_job_rbac(values, namespace, release),
        "controller/configmap.yaml": _config_map(values, namespace),
        "controller/deployment.yaml": [_deployment(values, namespace, release)],
        **_webhook(values, namespace),
    }
