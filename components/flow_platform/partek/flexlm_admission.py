"""The FlexLM namespace's admission policy: it enforces PSA ``privileged`` only for this pod shape.

Pod Security Admission cannot admit "NET_ADMIN for one container and nothing else": below
``privileged`` it forbids NET_ADMIN. So the namespace enforces ``privileged`` and this
ValidatingAdmissionPolicy (CEL, ``admissionregistration.k8s.io/v1``, GA in Kubernetes 1.30) admits
exactly the FlexLM pod: one ``flexlmserver`` container of the configured image that may add only
NET_ADMIN, at most the ``install-license`` init container of the same image adding nothing, every
container dropping ALL without privilege escalation or privileged mode, no host namespaces or ports,
only claim/secret/emptyDir volumes, no service-account token, no ephemeral (debug) containers.
"""

from typing import Any

SERVER_CONTAINER = "flexlmserver"
INSTALLER_CONTAINER = "install-license"
ALLOWED_CAPABILITY = "NET_ADMIN"


def _cel_string(value: str) -> str:
    """A CEL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _context_ok(var: str) -> str:
    sc = f"{var}.securityContext"
    return (
        f"has({sc}) && has({sc}.allowPrivilegeEscalation) && {sc}.allowPrivilegeEscalation == false"
        f" && !(has({sc}.privileged) && {sc}.privileged)"
        f" && has({sc}.capabilities) && has({sc}.capabilities.drop) && 'ALL' in {sc}.capabilities.drop"
    )


def _adds(var: str) -> str:
    caps = f"{var}.securityContext.capabilities"
    return f"(has({var}.securityContext) && has({caps}) && has({caps}.add) ? {caps}.add : [])"


def flexlm_pod_validations(image: str) -> list[dict[str, str]]:
    """The CEL validations a pod in the FlexLM namespace must pass (``image``: the pinned image)."""
    img = _cel_string(image)
    return [
        {
            "expression": f"object.spec.containers.size() == 1 && object.spec.containers.all(c,"
            f" c.name == '{SERVER_CONTAINER}' && c.image == {img})",
            "message": f"only the {SERVER_CONTAINER} container of image {image} runs in this namespace",
        },
        {
            "expression": f"variables.inits.size() <= 1 && variables.inits.all(c,"
            f" c.name == '{INSTALLER_CONTAINER}' && c.image == {img})",
            "message": f"the only init container allowed is {INSTALLER_CONTAINER} of image {image}",
        },
        {
            "expression": "!has(object.spec.ephemeralContainers)"
            " || object.spec.ephemeralContainers.size() == 0",
            "message": "no ephemeral (debug) containers in the license server's namespace",
        },
        {
            "expression": "variables.all.all(c, " + _context_ok("c") + ")",
            "message": "every container drops ALL capabilities, without privileged mode or privilege"
            " escalation",
        },
        {
            "expression": "variables.inits.all(c, " + _adds("c") + ".size() == 0)",
            "message": "the init container adds no capabilities",
        },
        {
            "expression": "object.spec.containers.all(c, "
            + _adds("c")
            + f".all(a, a == '{ALLOWED_CAPABILITY}'))",
            "message": f"the server container may add {ALLOWED_CAPABILITY} and nothing else",
        },
        {
            "expression": "!(has(object.spec.hostNetwork) && object.spec.hostNetwork)"
            " && !(has(object.spec.hostPID) && object.spec.hostPID)"
            " && !(has(object.spec.hostIPC) && object.spec.hostIPC)",
            "message": "no host network, PID or IPC namespace",
        },
        {
            "expression": "variables.all.all(c, !has(c.ports)"
            " || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))",
            "message": "no host ports",
        },
        {
            "expression": "!has(object.spec.volumes) || object.spec.volumes.all(v,"
            " has(v.persistentVolumeClaim) || has(v.secret) || has(v.emptyDir))",
            "message": "only persistentVolumeClaim, secret and emptyDir volumes (no hostPath)",
        },
        {
            "expression": "has(object.spec.automountServiceAccountToken)"
            " && object.spec.automountServiceAccountToken == false",
            "message": "the license server gets no service-account token",
        },
    ]


def flexlm_policy_spec(image: str) -> dict[str, Any]:
    """``ValidatingAdmissionPolicy.spec`` for pods (and their debug subresource)."""
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["pods", "pods/ephemeralcontainers"],
                }
            ]
        },
        "variables": [
            {
                "name": "inits",
                "expression": "has(object.spec.initContainers) ? object.spec.initContainers : []",
            },
            {"name": "all", "expression": "object.spec.containers + variables.inits"},
        ],
        "validations": flexlm_pod_validations(image),
    }


def flexlm_binding_spec(policy_name: str, namespace: str) -> dict[str, Any]:
    """``ValidatingAdmissionPolicyBinding.spec``: deny, in the license namespace only."""
    return {
        "policyName": policy_name,
        "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}},
    }
