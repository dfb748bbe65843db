"""Deployments, Services and probes shaped the same way for every flow-platform workload."""

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from .rollout import rollout_timeouts

Strategy = Literal["Recreate", "RollingUpdate"]


def component_depends_on(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The ``depends_on`` a component was given, for its workload: Pulumi does not pass a component's
    dependencies on to its children, so "start after X" must be said on the Deployment itself."""
    if opts is None or opts.depends_on is None:
        return []
    deps = opts.depends_on
    if isinstance(deps, pulumi.Resource):
        return [deps]
    if isinstance(deps, list | tuple):
        return [d for d in deps if isinstance(d, pulumi.Resource)]
    raise TypeError("depends_on of a flow-platform component must be a resource or a list of resources")


def http_probes(port: int | str, path: str = "/", startup_seconds: int = 600) -> dict[str, Any]:
    """Startup, readiness and liveness probes on one HTTP port.

    The startup probe allows ``startup_seconds`` before liveness takes over, so a slow start
    (Tomcat unpacking, a JVM warming) is not killed in a restart loop.
    """
    period = 10
    return {
        "startupProbe": {
            "httpGet": {"path": path, "port": port},
            "periodSeconds": period,
            "failureThreshold": max(1, startup_seconds // period),
            "timeoutSeconds": 5,
        },
        "readinessProbe": {
            "httpGet": {"path": path, "port": port},
            "periodSeconds": period,
            "failureThreshold": 3,
            "timeoutSeconds": 5,
        },
        "livenessProbe": {
            "httpGet": {"path": path, "port": port},
            "periodSeconds": 30,
            "failureThreshold": 4,
            "timeoutSeconds": 10,
        },
    }


def tcp_probes(port: int | str, startup_seconds: int = 120) -> dict[str, Any]:
    """Startup, readiness and liveness probes for a plain TCP server."""
    period = 10
    return {
        "startupProbe": {
            "tcpSocket": {"port": port},
            "periodSeconds": period,
            "failureThreshold": max(1, startup_seconds // period),
        },
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": period, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 30, "failureThreshold": 4},
    }


def deployment(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    selector: dict[str, str],
    pod_spec: dict[str, Any],
    replicas: int,
    strategy: Strategy,
    opts: pulumi.ResourceOptions,
    pod_annotations: "pulumi.Input[dict[str, str]] | None" = None,
    rolling_update: dict[str, Any] | None = None,
) -> "k8s.apps.v1.Deployment":
    """A Deployment; ``Recreate`` for single writers (never two pods at once), else rolling.

    ``pod_annotations`` go on the pod template (content checksums that roll the pods, see
    :mod:`flow_platform.k8s.rollout`); ``rolling_update`` is ``maxSurge``/``maxUnavailable``.
    """
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": labels}
    template_metadata: dict[str, Any] = {"labels": labels}
    if pod_annotations is not None:
        template_metadata["annotations"] = pod_annotations
    strategy_spec: dict[str, Any] = {"type": strategy}
    if rolling_update is not None:
        if strategy != "RollingUpdate":
            raise ValueError("rolling_update applies to the RollingUpdate strategy only")
        strategy_spec["rollingUpdate"] = rolling_update
    spec: Any = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "strategy": strategy_spec,
        "template": {"metadata": template_metadata, "spec": pod_spec},
    }
    return k8s.apps.v1.Deployment(resource_name, metadata=metadata, spec=spec, opts=opts)


def single_pod_deployment(
    name: str,
    app: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    selector: dict[str, str],
    pod_spec: dict[str, Any],
    startup_seconds: int,
    grace_seconds: int,
    depends_on: list[pulumi.Resource],
    opts: pulumi.ResourceOptions,
    pod_annotations: "pulumi.Input[dict[str, str]] | None" = None,
) -> "k8s.apps.v1.Deployment":
    """The one pod of a single writer (``Recreate``: never two at once) and a PDB that lets no drain
    evict it: what it serves (every license check, every running job) stops while it moves, so a
    move is planned, not a side effect of a node upgrade. Children ``<name>-deployment`` and
    ``<name>-disruption-budget``."""
    workload = deployment(
        f"{name}-deployment",
        app,
        namespace,
        labels,
        selector,
        pod_spec,
        replicas=1,
        strategy="Recreate",
        pod_annotations=pod_annotations,
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                depends_on=depends_on, custom_timeouts=rollout_timeouts(startup_seconds, grace_seconds)
            ),
        ),
    )
    pod_disruption_budget(f"{name}-disruption-budget", app, namespace, labels, selector, 0, opts)
    return workload


def scheduling_fields(
    priority_class_name: str | None = None, image_pull_secrets: list[str] | None = None
) -> dict[str, Any]:
    """The optional pod spec fields a component's args may set: none of them when unset."""
    fields: dict[str, Any] = {}
    if priority_class_name:
        fields["priorityClassName"] = priority_class_name
    if image_pull_secrets:
        fields["imagePullSecrets"] = [{"name": n} for n in image_pull_secrets]
    return fields


def service(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    selector: dict[str, str],
    service_ports: list[dict[str, Any]],
    opts: pulumi.ResourceOptions,
) -> "k8s.core.v1.Service":
    """A ClusterIP Service: nothing flow-platform runs is exposed except through an Ingress."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": labels}
    spec: Any = {"type": "ClusterIP", "selector": selector, "ports": service_ports}
    return k8s.core.v1.Service(resource_name, metadata=metadata, spec=spec, opts=opts)


def service_port(name: str, port: int, target_port: int | None = None) -> dict[str, Any]:
    return {"name": name, "port": port, "targetPort": target_port or port, "protocol": "TCP"}


def pod_disruption_budget(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    selector: dict[str, str],
    max_unavailable: int,
    opts: pulumi.ResourceOptions,
) -> "k8s.policy.v1.PodDisruptionBudget":
    """A PDB; ``unhealthyPodEvictionPolicy: AlwaysAllow`` so a crash-looping pod never blocks a drain
    (policy/v1, GA in Kubernetes 1.31)."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": labels}
    spec: Any = pdb_spec(selector, max_unavailable)
    return k8s.policy.v1.PodDisruptionBudget(resource_name, metadata=metadata, spec=spec, opts=opts)


def pdb_spec(selector: dict[str, str], max_unavailable: int) -> dict[str, Any]:
    """``maxUnavailable`` over the workload's selector."""
    if max_unavailable < 0:
        raise ValueError("max_unavailable is a count of pods, zero or more")
    return {
        "maxUnavailable": max_unavailable,
        "selector": {"matchLabels": dict(sorted(selector.items()))},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def spread_across_zones_and_nodes(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Topology spread for interchangeable replicas: one zone or node going away takes few of them.

    ``ScheduleAnyway`` so a cluster with one zone or a full zone still schedules (a soft preference,
    never a pending pod).
    """
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(sorted(selector.items()))},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def priority_class(
    resource_name: str,
    name: str,
    value: int,
    description: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> "k8s.scheduling.v1.PriorityClass":
    """A cluster-scoped PriorityClass that preempts lower-priority pods when its pods cannot be
    scheduled; never ``globalDefault`` (only pods that name it get it)."""
    if not 0 < value < 1_000_000_000:
        raise ValueError("user PriorityClass values are 1..999999999; above is reserved for system classes")
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "labels": labels}
    return k8s.scheduling.v1.PriorityClass(
        resource_name,
        metadata=metadata,
        value=value,
        global_default=False,
        preemption_policy="PreemptLowerPriority",
        description=description,
        opts=opts,
    )
