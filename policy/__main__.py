"""The flow-platform CrossGuard policy pack (``pulumi preview --policy-pack policy``).

Run by the Pulumi CLI as its own process: ``PolicyPack`` serves the Analyzer gRPC protocol and
prints its port. Levels and settings per environment live in ``config/<env>.json``.
"""

from flow_policies import speed
from flow_policies.pack import DEFAULT_LEVEL, policies
from pulumi_policy import PolicyPack

speed.install()  # convert each request once, not once per policy

PolicyPack(
    name="flow-platform-guardrails",
    enforcement_level=DEFAULT_LEVEL,
    policies=policies(),  # type: ignore[arg-type]
    description="Resources, security contexts, images, RBAC, storage and AWS guardrails for flow-platform.",
)
