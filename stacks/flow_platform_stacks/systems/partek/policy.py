"""Partek Flow's pre-approved policy exceptions: exactly the workloads this block deploys."""

from flow_platform.partek import flexlm_server, flow_headnode

from ..base import PRIVILEGED_NAMESPACE, PolicyException
from .config import PartekConfig


def policy_exceptions(block: PartekConfig, env: str, namespace: str) -> list[PolicyException]:
    found: list[PolicyException] = []
    if block.license.mode == "flexlm":
        license_ns, server = block.license_namespace(env), flexlm_server.NAME
        found += [
            PolicyException(
                "pod-resources",
                license_ns,
                server,
                ("cpu-limit",),
                "the vendor's sizing caps the license daemon at one CPU",
            ),
            PolicyException(
                "pod-security-context",
                license_ns,
                server,
                ("capability:NET_ADMIN", "run-as-root"),
                "FlexLM creates a network interface with the license's MAC address: NET_ADMIN,"
                " effective only for UID 0",
            ),
            PolicyException(
                PRIVILEGED_NAMESPACE,
                license_ns,
                license_ns,
                (),
                "the FlexLM license server runs alone here, at the privileged Pod Security level",
            ),
        ]
    found.append(
        PolicyException(
            "read-only-root-filesystem",
            namespace,
            flow_headnode.NAME,
            ("writable-root",),
            "Tomcat unpacks and writes below its install directory",
        )
    )
    if block.workers is not None:
        worker = flow_headnode.WORKER_LABELS_NAME
        found += [
            PolicyException(
                "read-only-root-filesystem",
                namespace,
                worker,
                ("writable-root",),
                "the Flow worker shares the headnode's image and its writes",
            ),
            PolicyException(
                "workload-probes",
                namespace,
                worker,
                ("no-probes",),
                "Flow workers expose no health endpoint; the headnode tracks them over akka",
            ),
        ]
    return found
