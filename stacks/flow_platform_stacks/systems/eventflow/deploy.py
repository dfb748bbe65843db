"""Compose EventFlow for one environment: the application's nodes and, when configured, its monitor."""

from typing import Any

import pulumi
from flow_platform.eventflow import EventFlowCluster, EventFlowClusterArgs, EventFlowMonitorArgs
from flow_platform.eventflow.eventflow_cluster import EventFlowClient

from ..base import StackContext
from .config import EventFlowConfig


def cluster_args(ctx: StackContext, block: EventFlowConfig, namespace: str) -> EventFlowClusterArgs:
    """The component's args from the validated block (images through the mirror)."""
    foundation = ctx.foundation
    args: EventFlowClusterArgs = {
        "namespace": namespace,
        "env": ctx.env,
        "app_name": block.app_name,
        "image": foundation.image("eventflow-node"),
        "replicas": block.replicas,
        "node_uid": block.node_uid,
        "cpu": str(block.cpu),
        "memory": str(block.memory),
        "shared_memory": str(block.shared_memory),
        "node_storage": str(block.node_storage),
        "admin_username": pulumi.Output.secret(block.admin.username),
        "admin_password": pulumi.Output.secret(block.admin.password.get_secret_value()),
        "configuration": dict(block.configuration),
        "resources": dict(block.resources),
        "health_credentials": block.health_credentials,
        "startup_seconds": block.startup_seconds,
        "client_ports": list(block.client_ports),
        "api_server_cidrs": list(ctx.api_server.cidrs),
        "api_server_port": ctx.api_server.port,
        # prd spreads its nodes over zones unless the block says otherwise
        "zone_spread": block.zone_spread if block.zone_spread is not None else ctx.env == "prd",
        "ingress_controller_namespace": ctx.ingress.namespace,
        "ingress_controller_labels": dict(ctx.ingress.pod_labels),
    }
    if block.cpu_limit is not None:
        args["cpu_limit"] = str(block.cpu_limit)
    if block.keystore_password is not None:
        args["keystore_password"] = pulumi.Output.secret(block.keystore_password.get_secret_value())
    if block.node_deploy is not None:
        args["node_deploy"] = block.node_deploy
    if block.node_ports is not None:
        args["node_port_range_start"] = block.node_ports.start
        args["node_port_range_end"] = block.node_ports.end
    clients: list[EventFlowClient] = []
    for client in block.clients:
        entry: EventFlowClient = {"namespace": client.namespace}
        if client.pod_labels:
            entry["pod_labels"] = dict(client.pod_labels)
        clients.append(entry)
    if clients:
        args["clients"] = clients
    if block.monitor is not None:
        monitor = block.monitor
        monitor_args: EventFlowMonitorArgs = {
            "image": foundation.image("eventflow-monitor"),
            "cpu": str(monitor.cpu),
            "memory": str(monitor.memory),
            "shared_memory": str(monitor.shared_memory),
        }
        if monitor.ingress_host:
            monitor_args["ingress_host"] = monitor.ingress_host
            monitor_args["ingress_class"] = ctx.ingress.class_name
            if monitor.tls_secret:
                monitor_args["tls_secret"] = monitor.tls_secret
            if monitor.cluster_issuer:
                monitor_args["cluster_issuer"] = monitor.cluster_issuer
        args["monitor"] = monitor_args
    return args


def deploy(ctx: StackContext, block: EventFlowConfig, namespace: str) -> dict[str, Any]:
    """Register EventFlow into ``namespace``; returns its stack outputs."""
    cluster = EventFlowCluster(
        "eventflow-cluster",
        cluster_args(ctx, block, namespace),
        ctx.foundation.after_images(ctx.opts, *block.images()),
    )
    return {
        "namespace": namespace,
        "statefulSet": cluster.stateful_set_name,
        "serviceAccount": cluster.service_account_name,
        "discoveryServices": cluster.discovery_services,
        "monitorUrl": cluster.monitor_url,
    }
