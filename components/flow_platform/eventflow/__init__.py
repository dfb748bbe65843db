"""EventFlow (Spotfire/TIBCO Streaming): an application's nodes as a StatefulSet, and its cluster monitor."""

from .eventflow_cluster import EventFlowClient, EventFlowCluster, EventFlowClusterArgs, EventFlowMonitorArgs
from .nodes import discovery_name_problem, discovery_service_names, node_memory_limit, services_needed

__all__ = [
    "EventFlowClient",
    "EventFlowCluster",
    "EventFlowClusterArgs",
    "EventFlowMonitorArgs",
    "discovery_name_problem",
    "discovery_service_names",
    "node_memory_limit",
    "services_needed",
]
