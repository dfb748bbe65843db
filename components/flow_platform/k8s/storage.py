"""PersistentVolumeClaims that a routine change never deletes or replaces."""

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

AccessMode = Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]


def stateful_options(opts: pulumi.ResourceOptions, protect: bool) -> pulumi.ResourceOptions:
    """``opts`` for a resource holding data: ``protect`` when asked (prd), and always
    ``retain_on_delete``, so removing it from the program leaves the data where it is."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=protect, retain_on_delete=True))


def volume_claim(
    resource_name: str,
    claim_name: str,
    namespace: pulumi.Input[str],
    size: pulumi.Input[str],
    storage_class: pulumi.Input[str],
    access_mode: AccessMode,
    labels: dict[str, str],
    protect: bool,
    opts: pulumi.ResourceOptions,
) -> "k8s.core.v1.PersistentVolumeClaim":
    """A claim with a fixed name, protected when asked and retained when removed from the program.

    ``retain_on_delete`` keeps the claim (and so its volume) in the cluster if the resource leaves
    the program; growing ``size`` is an in-place update (volume expansion), so it never replaces.
    """
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": claim_name, "namespace": namespace, "labels": labels}
    spec: k8s.core.v1.PersistentVolumeClaimSpecArgsDict = {
        "access_modes": [access_mode],
        "storage_class_name": storage_class,
        "volume_mode": "Filesystem",
        "resources": {"requests": {"storage": size}},
    }
    return k8s.core.v1.PersistentVolumeClaim(
        resource_name,
        metadata=metadata,
        spec=spec,
        opts=stateful_options(opts, protect),
    )
