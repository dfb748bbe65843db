"""Roll a pod when what it reads once at start changes, and wait for rollouts long enough.

Kubernetes restarts nothing when a Secret or ConfigMap changes: a pod that copies a license at
start (FlexLM's init container) or a JVM that loads a truststore once keeps the old content until
it happens to be rescheduled. A content hash in the pod template's annotations turns every content
change into a template change, so the Deployment rolls exactly when it must (the idea of Helm's
``checksum/config`` annotation). Any system reuses :func:`checksum_annotations`.
"""

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import pulumi

CHECKSUM_PREFIX = "flow-platform/checksum-"
"""Annotation key prefix; the name after it says which input the hash covers."""


def content_checksum(content: Any) -> str:
    """SHA-256 of ``content``: strings as UTF-8, anything else as canonical (sorted-key) JSON."""
    data = content if isinstance(content, str) else json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def checksum_annotation_key(name: str) -> str:
    """``flow-platform/checksum-<name>``; the name part of an annotation key is at most 63 characters."""
    key = f"{CHECKSUM_PREFIX}{name}"
    if len(key.split("/", 1)[1]) > 63 or not name.replace("-", "").isalnum() or name != name.lower():
        raise ValueError(f"checksum name {name!r} must be lowercase letters, digits and '-', at most 54")
    return key


def checksum_annotations(contents: Mapping[str, Any]) -> pulumi.Output[dict[str, str]]:
    """Pod-template annotations hashing each named input (plain values or Outputs, secrets too).

    The hash of a secret is published unsecret: SHA-256 of a license file or a truststore (kilobytes
    of signed or random data) reveals nothing, and a visible hash lets reviewers see in the diff why
    a pod rolls.
    """
    names = sorted(contents)
    keys = [checksum_annotation_key(name) for name in names]
    hashed = pulumi.Output.all(*(pulumi.Output.from_input(contents[n]) for n in names)).apply(
        lambda values: {key: content_checksum(value) for key, value in zip(keys, values, strict=True)}
    )
    return pulumi.Output.unsecret(hashed)


def rollout_budget_seconds(startup_seconds: int, grace_seconds: int, image_pull_seconds: int = 600) -> int:
    """How long a rollout may legitimately take: the old pod's graceful stop (``Recreate``), an image
    pull onto a fresh node, and the startup probe's whole budget."""
    return grace_seconds + image_pull_seconds + startup_seconds


def rollout_timeouts(
    startup_seconds: int, grace_seconds: int, image_pull_seconds: int = 600
) -> pulumi.CustomTimeouts:
    """``customTimeouts`` above the rollout budget, in whole minutes.

    pulumi-kubernetes marks a Deployment failed when it is not ready after 10 minutes unless
    ``customTimeouts`` says otherwise (apps/v1 Deployment docs, pulumi-kubernetes 4.x); a workload
    whose startup probe allows longer would fail ``pulumi up`` while starting normally.
    """
    minutes = math.ceil(rollout_budget_seconds(startup_seconds, grace_seconds, image_pull_seconds) / 60) + 5
    return pulumi.CustomTimeouts(create=f"{minutes}m", update=f"{minutes}m")
