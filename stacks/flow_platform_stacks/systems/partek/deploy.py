"""Compose Partek Flow for one environment: license (three modes), headnode, workers."""

import base64
import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from flow_platform.k8s import standard_labels
from flow_platform.k8s.storage import volume_claim
from flow_platform.k8s.workload import priority_class
from flow_platform.partek import (
    FLOW_UID,
    LICENSE_FILE_PATH,
    FlexLMServer,
    FlowHeadnode,
    FlowHeadnodeArgs,
    FlowWorkers,
    FlowWorkersArgs,
    HeadnodeMode,
    LicenseServerPeer,
    headnode_selector,
    license_server_selector,
)

from ...namespaces import namespace_sizes
from ..base import StackContext
from .config import PartekConfig

LICENSE_EXCEPTION = (
    "FlexLM creates a network interface with the license's MAC address: NET_ADMIN as UID 0, which "
    "Pod Security Admission admits only at the privileged level; the license server runs alone here"
)
PRIORITY_VALUE = 1_000_000
"""Above every pod without a class (0): the headnode and license server preempt batch work when a
node is short, because nothing runs without them; far below system-cluster-critical (2000000000)."""
PULL_SECRET = "partek-registry"


def docker_config_json(registry: str, username: str, password: str) -> str:
    """The ``.dockerconfigjson`` of a ``kubernetes.io/dockerconfigjson`` Secret for one registry."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {registry: {"username": username, "password": password, "auth": auth}}})


LICENSE_GUARDRAILS = namespace_sizes(
    request=("100m", "128Mi"),
    limit="256Mi",
    maximum=("1", "512Mi"),
    quota=("1", "1Gi", "1Gi"),
    pods=2,
    claims=1,
)


def deploy(ctx: StackContext, block: PartekConfig, namespace: str) -> dict[str, Any]:
    """Register Partek Flow into ``namespace``; returns the stack outputs for it."""
    env, opts, foundation = ctx.env, ctx.opts, ctx.foundation
    headnode_peer = headnode_selector(env)
    license_server: LicenseServerPeer | None = None
    license_cidrs: list[str] = []
    lic = block.license
    critical = priority_class(
        "priority-partek-critical",
        f"partek-critical-{env}",
        PRIORITY_VALUE,
        f"Partek Flow {env}: the headnode and its FlexLM license server (single pods nothing runs without)",
        standard_labels("partek-critical", env, "partek", component="scheduling"),
        opts,
    )
    headnode_depends: list[pulumi.Resource] = [critical]
    pull_secrets: list[str] = []
    if block.image_pull_auth is not None:
        auth = block.image_pull_auth
        registry = block.image.repository.split("/", 1)[0]
        config_json = pulumi.Output.secret(auth.password.get_secret_value()).apply(
            lambda password: docker_config_json(registry, auth.username, password)
        )
        headnode_depends.append(
            k8s.core.v1.Secret(
                "registry-auth-partek",
                metadata={
                    "name": PULL_SECRET,
                    "namespace": namespace,
                    "labels": standard_labels(PULL_SECRET, env, "partek", component="registry-auth"),
                },
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": config_json},
                opts=opts,
            )
        )
        pull_secrets = [PULL_SECRET]
    if lic.mode == "flexlm":
        assert lic.text is not None and lic.image is not None and lic.storage_class is not None
        license_ns = block.license_namespace(env)
        guardrails = ctx.guarded_namespace(
            "partek-license",
            license_ns,
            "partek",
            LICENSE_GUARDRAILS,
            privileged_because=LICENSE_EXCEPTION,
        )
        server = FlexLMServer(
            "flexlm",
            {
                "namespace": license_ns,
                "env": env,
                "image": foundation.image("flexlm"),
                "license": pulumi.Output.secret(lic.text.get_secret_value()),
                "storage_class": lic.storage_class,
                "service_name": lic.service_name,
                "client_namespace": namespace,
                "client_labels": headnode_peer,
                "protect": ctx.protect,
                "priority_class_name": f"partek-critical-{env}",
            },
            foundation.after_images(
                ctx.merged(guardrails, critical),
                "flexlm",
            ),
        )
        # the vendor: deploy the license server first; the headnode starts licensed only if it runs
        headnode_depends.append(server)
        license_address: pulumi.Input[str] = server.license_address
        license_server = {
            "namespace": license_ns,
            "labels": license_server_selector(env),
        }
    elif lic.mode == "external":
        assert lic.server is not None
        license_address = lic.server
        license_cidrs = lic.cidrs
    else:
        license_address = LICENSE_FILE_PATH

    home = block.home
    if home.claim_name is not None:
        home_claim = home.claim_name
    elif home.efs:
        home_claim = "partek-flow-home"
        headnode_depends.append(
            ctx.shared_volume("partek-home", "partek", namespace, home_claim, home.claim_size(), uid=FLOW_UID)
        )
    else:
        assert home.storage_class is not None
        home_claim = "partek-flow-home"
        claim = volume_claim(
            "home-flow-claim",
            home_claim,
            namespace,
            home.claim_size(),
            home.storage_class,
            "ReadWriteMany",
            standard_labels("partek-flow-home", env, "partek", component="storage"),
            ctx.protect,
            opts,
        )
        headnode_depends.append(claim)

    head = block.headnode
    headnode_args: FlowHeadnodeArgs = {
        "namespace": namespace,
        "env": env,
        "image": foundation.image("partek-flow"),
        "license_address": license_address,
        "mode": HeadnodeMode(head.mode),
        "cpu": str(head.cpu),
        "memory": str(head.memory),
        "memory_limit": str(head.memory_limit or head.memory),
        "worker_memory_mb": head.worker_memory_mb,
        "worker_cores": head.worker_cores,
        "extra_jvm_options": head.extra_jvm_options,
        "home_claim": home_claim,
        "ingress_host": block.ingress.host,
        "ingress_class": ctx.ingress.class_name,
        "ingress_controller_namespace": ctx.ingress.namespace,
        "ingress_controller_labels": dict(ctx.ingress.pod_labels),
        "acme_http01": block.ingress.acme_challenge == "http-01",
        "priority_class_name": f"partek-critical-{env}",
        "image_pull_secrets": pull_secrets,
        "external_endpoints": [
            {"name": e.name, "cidrs": e.cidrs, "ports": e.ports} for e in head.external_endpoints
        ],
    }
    if license_server is not None:
        headnode_args["license_server"] = license_server
    if license_cidrs:
        headnode_args["license_server_cidrs"] = license_cidrs
    if head.ca_certs is not None:
        headnode_args["ca_certs"] = pulumi.Output.secret(head.ca_certs.get_secret_value())
    if block.ingress.tls_secret:
        headnode_args["tls_secret"] = block.ingress.tls_secret
    if block.ingress.cluster_issuer:
        headnode_args["cluster_issuer"] = block.ingress.cluster_issuer
    if block.workers is not None:
        headnode_args["worker_port"] = block.workers.port
    headnode = FlowHeadnode(
        "flow-headnode",
        headnode_args,
        foundation.after_images(
            ctx.merged(*headnode_depends),
            "partek-flow",
        ),
    )

    workers = block.workers
    if workers is not None:
        worker_args: FlowWorkersArgs = {
            "namespace": namespace,
            "env": env,
            "image": foundation.image("partek-flow"),
            "replicas": workers.replicas,
            "cpu": str(workers.cpu),
            "memory": str(workers.memory),
            "memory_limit": str(workers.memory_limit or workers.memory),
            "env_vars": workers.env,
            "home_claim": home_claim,
            "port": workers.port,
            "termination_grace_seconds": workers.termination_grace_period_seconds,
            "image_pull_secrets": pull_secrets,
        }
        if workers.command is not None:
            worker_args["command"] = workers.command
        if workers.args is not None:
            worker_args["args"] = workers.args
        FlowWorkers(
            "flow-workers",
            worker_args,
            foundation.after_images(
                ctx.merged(headnode),
                "partek-flow",
            ),
        )

    return {
        "namespace": namespace,
        "url": headnode.url,
        "licenseAddress": license_address,
        "headnodeService": headnode.service_name,
        "homeClaim": home_claim,
    }
