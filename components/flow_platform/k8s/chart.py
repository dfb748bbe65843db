"""Building blocks for vendored Helm charts rendered in Python (no helm binary, no download).

A chart renderer (Flink's operator, the kubeflow spark-operator) merges its overrides over the
chart's own ``values.yaml`` the way Helm does, refuses keys the chart does not have (Helm would
ignore them silently), and registers each rendered object as its typed Pulumi resource, so the
offline render and the policy pack see exactly what the cluster gets.
"""

import copy
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: megabytes of CRDs in about a second


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge key by key, anything else (lists too) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def unknown_value_keys(
    override: dict[str, Any], base: dict[str, Any], free_form: Collection[str] = (), prefix: str = ""
) -> list[str]:
    """Dotted paths of ``override`` that ``base`` (a values.yaml) lacks. Maps the templates copy
    whole (``toYaml``: Kubernetes fields, not chart keys) are named in ``free_form``; an empty map
    in values.yaml is free-form too."""
    found = []
    for key, value in override.items():
        path = f"{prefix}{key}"
        if key not in base:
            found.append(path)
        elif path in free_form:
            continue
        elif isinstance(value, dict) and isinstance(base[key], dict) and base[key]:
            found += unknown_value_keys(value, base[key], free_form, f"{path}.")
    return found


def load_documents(paths: list[Path]) -> tuple[dict[str, Any], ...]:
    """YAML documents of ``paths`` (one each), sorted by metadata.name. Do not mutate the result."""
    docs = [yaml.load(p.read_text(), Loader=_LOADER) for p in paths]
    return tuple(sorted(docs, key=lambda d: d["metadata"]["name"]))


def register_object(name: str, doc: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One rendered object as its typed resource, named by kind, namespace and name (stable)."""
    meta = doc["metadata"]
    logical = f"{name}-{doc['kind'].lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}"
    body: Any = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
    kind = doc["kind"]
    if kind == "ServiceAccount":
        return k8s.core.v1.ServiceAccount(
            logical,
            metadata=meta,
            automount_service_account_token=body.get("automountServiceAccountToken"),
            opts=opts,
        )
    if kind in ("Role", "ClusterRole"):
        role_type = k8s.rbac.v1.Role if kind == "Role" else k8s.rbac.v1.ClusterRole
        return role_type(logical, metadata=meta, rules=body["rules"], opts=opts)
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        binding_type = k8s.rbac.v1.RoleBinding if kind == "RoleBinding" else k8s.rbac.v1.ClusterRoleBinding
        return binding_type(
            logical, metadata=meta, role_ref=body["roleRef"], subjects=body["subjects"], opts=opts
        )
    if kind == "ConfigMap":
        return k8s.core.v1.ConfigMap(logical, metadata=meta, data=body["data"], opts=opts)
    if kind == "Deployment":
        return k8s.apps.v1.Deployment(logical, metadata=meta, spec=body["spec"], opts=opts)
    if kind == "Service":
        return k8s.core.v1.Service(logical, metadata=meta, spec=body["spec"], opts=opts)
    if kind == "PodDisruptionBudget":
        return k8s.policy.v1.PodDisruptionBudget(logical, metadata=meta, spec=body["spec"], opts=opts)
    raise ValueError(f"{kind} {meta['name']}: no typed resource registered for this kind")


def custom_resource_definitions(
    name: str,
    docs: tuple[dict[str, Any], ...],
    manage: bool,
    protect: bool,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.CustomResource]:
    """A chart's CRDs: created (retained on delete, protected where asked) by the one stack per
    cluster that manages them, read by the others (a missing CRD then fails the preview naming it).
    Deleting a CRD deletes every object of it on the cluster, other environments' too."""
    crds: list[pulumi.CustomResource] = []
    for doc in docs:
        crd_name = doc["metadata"]["name"]
        logical = f"{name}-crd-{crd_name.split('.')[0]}"
        if manage:
            crds.append(
                k8s.apiextensions.v1.CustomResourceDefinition(
                    logical,
                    metadata=doc["metadata"],
                    spec=doc["spec"],
                    opts=pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(retain_on_delete=True, protect=protect)
                    ),
                )
            )
        else:
            crds.append(k8s.apiextensions.v1.CustomResourceDefinition.get(logical, crd_name, opts=opts))
    return crds
