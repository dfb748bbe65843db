"""Building blocks for vendored Helm charts rendered in Python (no helm binary, no download).

A chart renderer (Flink's operator, the kubeflow spark-operator) merges its overrides over the
chart's own ``values.yaml`` the way Helm does, refuses keys the chart does not have (Helm would
ignore them silently), and registers each rendered object as its typed Pulumi resource, so the
offline render and the policy pack see exactly what the cluster gets.
"""

import copy
import json
from collections.abc import Callable, Collection
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: megabytes of CRDs in about a second


@cache
def chart_text(path: Path) -> str:
    """A file of a vendored chart (templates' config files, Chart.yaml, values.yaml), read once."""
    return path.read_text()


@cache
def _parsed(path: Path) -> Any:
    return yaml.load(chart_text(path), Loader=_LOADER)


def chart_yaml(path: Path) -> dict[str, Any]:
    """A YAML file of a vendored chart (Chart.yaml, values.yaml), parsed once; a fresh copy each
    call, so a caller's changes never leak into the next render."""
    parsed: dict[str, Any] = copy.deepcopy(_parsed(path))
    return parsed


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


PARSED_CRDS = "crds.json"
"""Beside a chart's ``crds/``: its CRD files' documents, parsed from the YAML once and committed
(``python -m flow_platform.provider write``), because parsing megabytes of YAML costs every
process that deploys the CRDs about 0.4 s per chart, and reading the same documents as JSON 5 ms."""


def parsed_crds_text(chart_dir: Path, pattern: str) -> str:
    """The text of ``chart_dir/crds.json``: each ``crds/<pattern>`` file's document by file name,
    keys in the YAML's order."""
    files = sorted((chart_dir / "crds").glob(pattern))
    docs = {p.name: yaml.load(p.read_text(), Loader=_LOADER) for p in files}
    return json.dumps(docs, separators=(",", ":")) + "\n"


def load_crds(chart_dir: Path, pattern: str) -> tuple[dict[str, Any], ...]:
    """The chart's CRDs (``crds/<pattern>``, one document each) from ``crds.json``, sorted by
    metadata.name. Do not mutate the result."""
    names = sorted(p.name for p in (chart_dir / "crds").glob(pattern))
    parsed: dict[str, dict[str, Any]] = json.loads((chart_dir / PARSED_CRDS).read_text())
    if sorted(parsed) != names:
        raise RuntimeError(
            f"{chart_dir / PARSED_CRDS} lists {sorted(parsed)}, crds/ holds {names}:"
            " run `python -m flow_platform.provider write`"
        )
    return tuple(sorted(parsed.values(), key=lambda d: d["metadata"]["name"]))


_TYPED: dict[str, tuple[Callable[..., pulumi.CustomResource], dict[str, str]]] = {
    "ServiceAccount": (
        k8s.core.v1.ServiceAccount,
        {"automount_service_account_token": "automountServiceAccountToken"},
    ),
    "Role": (k8s.rbac.v1.Role, {"rules": "rules"}),
    "ClusterRole": (k8s.rbac.v1.ClusterRole, {"rules": "rules"}),
    "RoleBinding": (k8s.rbac.v1.RoleBinding, {"role_ref": "roleRef", "subjects": "subjects"}),
    "ClusterRoleBinding": (k8s.rbac.v1.ClusterRoleBinding, {"role_ref": "roleRef", "subjects": "subjects"}),
    "ConfigMap": (k8s.core.v1.ConfigMap, {"data": "data"}),
    "Deployment": (k8s.apps.v1.Deployment, {"spec": "spec"}),
    "Service": (k8s.core.v1.Service, {"spec": "spec"}),
    "PodDisruptionBudget": (k8s.policy.v1.PodDisruptionBudget, {"spec": "spec"}),
    "ValidatingWebhookConfiguration": (
        k8s.admissionregistration.v1.ValidatingWebhookConfiguration,
        {"webhooks": "webhooks"},
    ),
    "MutatingWebhookConfiguration": (
        k8s.admissionregistration.v1.MutatingWebhookConfiguration,
        {"webhooks": "webhooks"},
    ),
}
"""The kinds vendored charts render, each as its typed resource (keyword argument: field of the
object), so the policy pack checks them by type."""

CUSTOM_RESOURCE_GROUPS = ("cert-manager.io",)
"""API groups of other projects' CRDs a chart may render objects of (Flink's webhook certificate):
registered as untyped custom resources with their ``spec``."""


def custom_resource(
    logical: str, doc: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """An object of a CRD (``apiVersion``, ``kind``, ``metadata``, ``spec``) as an untyped custom
    resource named ``logical``."""
    return k8s.apiextensions.CustomResource(
        logical,
        api_version=doc["apiVersion"],
        kind=doc["kind"],
        metadata=doc["metadata"],
        spec=doc["spec"],
        opts=opts,
    )


def register_object(name: str, doc: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """One rendered object as its typed resource, named by kind, namespace and name (stable)."""
    meta = doc["metadata"]
    logical = f"{name}-{doc['kind'].lower()}-{meta.get('namespace', 'cluster')}-{meta['name']}"
    kind = doc["kind"]
    if kind in _TYPED:
        resource_type, fields = _TYPED[kind]
        given = {keyword: doc[field] for keyword, field in fields.items() if field in doc}
        return resource_type(logical, metadata=meta, **given, opts=opts)
    if doc["apiVersion"].split("/")[0] in CUSTOM_RESOURCE_GROUPS:
        return custom_resource(logical, doc, opts)
    raise ValueError(f"{kind} {meta['name']}: no typed resource registered for this kind")


def register_objects(name: str, docs: list[dict[str, Any]], opts: pulumi.ResourceOptions) -> None:
    """A chart's objects (:func:`register_object`); its Deployments depend on all the others, so
    an operator starts with its RBAC, config and Services in place."""
    setup = [register_object(name, d, opts) for d in docs if d["kind"] != "Deployment"]
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=setup))
    for doc in docs:
        if doc["kind"] == "Deployment":
            register_object(name, doc, after)


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
