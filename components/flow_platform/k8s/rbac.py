"""A service account with a namespaced Role bound to it: the only RBAC shape flow-platform creates."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def service_account_with_role(
    resource_name: str,
    account_name: str,
    namespace: pulumi.Input[str],
    rules: list[dict[str, Any]],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    automount_token: bool = False,
) -> list[pulumi.Resource]:
    """ServiceAccount, Role and RoleBinding of one name in one namespace; never cluster-wide.

    Returns the three resources, for ``depends_on`` of the workload that uses the account.
    """
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {
        "name": account_name,
        "namespace": namespace,
        "labels": labels,
    }
    account = k8s.core.v1.ServiceAccount(
        f"{resource_name}-service-account",
        metadata=metadata,
        automount_service_account_token=automount_token,
        opts=opts,
    )
    typed_rules: Any = rules
    role = k8s.rbac.v1.Role(f"{resource_name}-role", metadata=metadata, rules=typed_rules, opts=opts)
    role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account_name}
    subjects: Any = [{"kind": "ServiceAccount", "name": account_name, "namespace": namespace}]
    binding = k8s.rbac.v1.RoleBinding(
        f"{resource_name}-role-binding", metadata=metadata, role_ref=role_ref, subjects=subjects, opts=opts
    )
    return [account, role, binding]
