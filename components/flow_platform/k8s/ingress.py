"""HTTPS-only Ingresses, annotations and a one-Service spec: one piece for every system that
exposes a UI (Partek Flow, Flink's REST UI through the operator, EventFlow's monitor)."""

from collections.abc import Mapping
from typing import Any

FORCE_SSL_REDIRECT = "nginx.ingress.kubernetes.io/force-ssl-redirect"
"""ingress-nginx answers plain HTTP with a redirect to HTTPS, whatever serves the certificate."""
SSL_REDIRECT = "nginx.ingress.kubernetes.io/ssl-redirect"
"""The same for an Ingress with its own TLS section (ingress-nginx's default, stated)."""
CLUSTER_ISSUER = "cert-manager.io/cluster-issuer"
"""cert-manager's ingress-shim issues the host's certificate from this ClusterIssuer."""


def https_ingress_annotations(
    cluster_issuer: str | None, *, ssl_redirect: bool = True, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """HTTPS only: plain HTTP is redirected; cert-manager issues the certificate when an issuer is
    named (else the TLS Secret is provided). ``extra``: the system's own proxy settings."""
    annotations = {FORCE_SSL_REDIRECT: "true"}
    if ssl_redirect:
        annotations[SSL_REDIRECT] = "true"
    annotations.update(extra or {})
    if cluster_issuer:
        annotations[CLUSTER_ISSUER] = cluster_issuer
    return annotations


def https_ingress_spec(host: str, ingress_class: str, tls_secret: str, service: str, port_name: str) -> Any:
    """One host over TLS, every path to one named port of one Service."""
    return {
        "ingressClassName": ingress_class,
        "tls": [{"hosts": [host], "secretName": tls_secret}],
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service, "port": {"name": port_name}}},
                        }
                    ]
                },
            }
        ],
    }
