"""The shared Kubernetes building blocks are plain functions with plain tests."""

from decimal import Decimal

import pytest
from flow_platform.k8s import (
    GIB,
    MIB,
    Quantity,
    QuantityError,
    api_server_egress_spec,
    container_resources,
    dns_egress_spec,
    endpoint_egress_spec,
    ingress_spec,
    limit_range_spec,
    mebibytes,
    namespace_labels,
    parse_quantity,
    pod_peer,
    ports,
    restricted_container_security_context,
    restricted_pod_security_context,
    selector_labels,
    standard_labels,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (8, Decimal(8)),
        ("16Gi", Decimal(16 * GIB)),
        ("512Mi", Decimal(512 * MIB)),
        ("1G", Decimal(10**9)),
        ("1.5Gi", Decimal(3 * GIB // 2)),
        ("1e3", Decimal(1000)),
        ("100k", Decimal(100_000)),
    ],
)
def test_quantities_parse_to_base_units(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "16GB", "16 Gi", "1.2.3", "abc", "16gi"])
def test_malformed_quantities_are_rejected(text: str) -> None:
    with pytest.raises(QuantityError, match="Kubernetes quantity"):
        parse_quantity(text)


def test_quantities_compare_by_value_not_by_text() -> None:
    assert Quantity.parse("1Gi") == Quantity.parse("1024Mi")
    assert Quantity.parse("900Mi") < Quantity.parse("1Gi")
    assert Quantity.parse("2") > Quantity.parse("1500m")
    assert "9Gi" > "10Gi" and Quantity.parse("9Gi") < Quantity.parse("10Gi")  # strings would get this wrong
    assert str(Quantity.parse(" 16Gi ")) == "16Gi"
    assert mebibytes("16Gi") == 16384


def test_selector_labels_are_the_stable_subset_of_standard_labels() -> None:
    labels = standard_labels("flowheadnode", "dev", "partek", component="headnode", version="23.0809.22")
    assert selector_labels("flowheadnode", "dev").items() <= labels.items()
    assert labels["app.kubernetes.io/name"] == "flowheadnode"
    assert labels["deployment"] == "dev"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert "app.kubernetes.io/version" not in selector_labels("flowheadnode", "dev")


def test_namespace_labels_enforce_the_level_and_keep_audit_and_warn_restricted() -> None:
    labels = namespace_labels("prd", "partek", "privileged", "v1.32")
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.32"
    assert labels["deployment"] == "prd"


def test_restricted_pod_security_context() -> None:
    context = restricted_pod_security_context(uid=1000, fs_group=1000)
    assert context == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 1000,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    with pytest.raises(ValueError, match="UID 0"):
        restricted_pod_security_context(uid=0)


def test_restricted_container_security_context_drops_everything() -> None:
    context = restricted_container_security_context()
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_a_documented_exception_adds_exactly_the_named_capability() -> None:
    context = restricted_container_security_context(add_capabilities=("NET_ADMIN",))
    assert context["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert context["allowPrivilegeEscalation"] is False


def test_container_resources_limit_memory_and_leave_cpu_unlimited_by_default() -> None:
    assert container_resources("8", "16Gi") == {
        "requests": {"cpu": "8", "memory": "16Gi"},
        "limits": {"memory": "16Gi"},
    }
    assert container_resources("1", "1Gi", "2Gi", cpu_limit="2")["limits"] == {"memory": "2Gi", "cpu": "2"}
    with pytest.raises(ValueError, match="below the request"):
        container_resources("1", "2Gi", "1Gi")
    with pytest.raises(ValueError, match="below the request"):
        container_resources("2", "1Gi", cpu_limit="1")


def test_limit_range_spec_is_one_container_limit() -> None:
    spec = limit_range_spec({"memory": "1Gi", "cpu": "1"}, {"memory": "2Gi"}, {"cpu": "8", "memory": "32Gi"})
    assert spec == {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": "1", "memory": "1Gi"},
                "default": {"memory": "2Gi"},
                # no max.cpu without a default cpu limit: see tests/test_partek_platform.py
                "max": {"memory": "32Gi"},
            }
        ]
    }


def test_dns_egress_reaches_only_kube_dns_on_port_53() -> None:
    spec = dns_egress_spec({"app.kubernetes.io/name": "flowheadnode"})
    assert spec["policyTypes"] == ["Egress"]
    [rule] = spec["egress"]
    assert rule["to"] == [
        {
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        }
    ]
    assert rule["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]


def test_api_server_egress_is_an_ip_block_on_one_port() -> None:
    spec = api_server_egress_spec({"app": "engine"}, ["10.0.2.0/24", "10.0.1.0/24"], 443)
    [rule] = spec["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": "10.0.1.0/24"}}, {"ipBlock": {"cidr": "10.0.2.0/24"}}]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]


def test_an_endpoint_is_egress_to_its_sorted_cidrs_on_its_ports() -> None:
    endpoint = {"name": "ldap", "cidrs": ["10.9.0.0/24", "10.8.0.5/32"], "ports": [636, 389]}
    spec = endpoint_egress_spec({"app": "headnode"}, endpoint)
    assert spec["podSelector"] == {"matchLabels": {"app": "headnode"}}
    [rule] = spec["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": "10.8.0.5/32"}}, {"ipBlock": {"cidr": "10.9.0.0/24"}}]
    assert rule["ports"] == [{"port": 636, "protocol": "TCP"}, {"port": 389, "protocol": "TCP"}]


def test_ingress_spec_names_peers_and_ports_exactly() -> None:
    spec = ingress_spec({"app": "redis"}, [pod_peer({"app": "engine"})], ports(6379))
    assert spec == {
        "podSelector": {"matchLabels": {"app": "redis"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [{"podSelector": {"matchLabels": {"app": "engine"}}}],
                "ports": [{"port": 6379, "protocol": "TCP"}],
            }
        ],
    }
