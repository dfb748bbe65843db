"""Deployments, Services and probes shaped the same way for every flow-platform workload."""

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

Strategy = Literal["Recreate", "RollingUpdate"]


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
) -> "k8s.apps.v1.Deployment":
    """A Deployment; ``Recreate`` for single writers (never two pods at once), else rolling."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": labels}
    spec: Any = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "strategy": {"type": strategy},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    return k8s.apps.v1.Deployment(resource_name, metadata=metadata, spec=spec, opts=opts)


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
