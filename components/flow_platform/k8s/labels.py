"""Label sets shared by every object flow-platform creates.

``deployment: <env>`` is the seed's label that lets several environments share a namespace and
lets workers find the right headnode; the ``app.kubernetes.io/*`` set is Kubernetes' recommended
one. Selectors use only the stable subset so that changing a version label never orphans pods.
"""

MANAGED_BY = "pulumi"
PART_OF = "flow-platform"


def selector_labels(name: str, env: str) -> dict[str, str]:
    """The immutable labels a Service or workload selector matches on."""
    return {"app.kubernetes.io/name": name, "deployment": env}


def standard_labels(
    name: str,
    env: str,
    system: str,
    component: str | None = None,
    version: str | None = None,
) -> dict[str, str]:
    """Labels for an object of ``system`` in ``env``; sorted keys keep rendered output stable."""
    labels = {
        **selector_labels(name, env),
        "app.kubernetes.io/instance": f"{name}-{env}",
        "app.kubernetes.io/part-of": system,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "flow-platform/system": system,
    }
    if component:
        labels["app.kubernetes.io/component"] = component
    if version:
        labels["app.kubernetes.io/version"] = version
    return dict(sorted(labels.items()))


def namespace_labels(env: str, system: str, pod_security: str, pod_security_version: str) -> dict[str, str]:
    """Namespace labels: env, ownership and the Pod Security Admission levels.

    ``enforce`` is the level the namespace admits; ``audit`` and ``warn`` stay at ``restricted``
    even in an exception namespace so every deviation remains visible in audit logs and kubectl.
    """
    labels = {
        "deployment": env,
        "app.kubernetes.io/part-of": system,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "flow-platform/system": system,
        "pod-security.kubernetes.io/enforce": pod_security,
        "pod-security.kubernetes.io/enforce-version": pod_security_version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": pod_security_version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": pod_security_version,
    }
    return dict(sorted(labels.items()))
