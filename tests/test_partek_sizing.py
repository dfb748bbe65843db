"""Partek Flow's pure decisions: JVM sizing, license files, license addresses."""

import pytest
from flow_platform.k8s import mebibytes
from flow_platform.partek import (
    SizingError,
    catalina_opts,
    flexlm_license_problems,
    license_address_problems,
    service_license_address,
)
from flow_platform.partek.sizing import single_node_worker_mb

GOOD_LICENSE = """\
SERVER flexlmserver 0242ac120002 27000
VENDOR parteklm PORT=27001
INCREMENT flow parteklm 2024.1 31-dec-2026 uncounted HOSTID=0242ac120002 SIGN="0123 4567"
"""


def test_the_seeds_distributed_headnode() -> None:
    assert (
        catalina_opts("16Gi", "distributed") == "-DFLOW_WORKER_MEMORY_MB=1024 -DFLOW_WORKER_CORES=2 -Xmx14g"
    )


def test_single_node_sizes_heap_non_heap_and_internal_worker_within_the_limit() -> None:
    # a quarter heap; the worker gets what the heap and 512Mi of non-heap memory leave of the limit
    opts = catalina_opts("32Gi", "single-node")
    assert opts == "-DFLOW_WORKER_MEMORY_MB=24064 -Xmx8g"
    assert 8 * 1024 + 512 + 24064 == 32 * 1024, "everything fits exactly in the 32Gi limit"
    assert "-DFLOW_WORKER_CORES" not in opts


def test_single_node_worker_grows_with_the_limit_up_to_the_request() -> None:
    assert single_node_worker_mb("16Gi", "20Gi") == 15872  # 20Gi - 4g - 512Mi
    assert single_node_worker_mb("16Gi", "64Gi") == 16384, "never above the request (the vendor's figure)"


def test_single_node_heap_is_never_under_4g() -> None:
    assert catalina_opts("8Gi", "single-node") == "-DFLOW_WORKER_MEMORY_MB=3584 -Xmx4g"
    assert catalina_opts("6Gi", "single-node").endswith("-Xmx4g")


@pytest.mark.parametrize("memory", ["8Gi", "16Gi", "32Gi", "48Gi", "100Gi"])
def test_single_node_never_overcommits_its_limit(memory: str) -> None:
    """The OOM kill the seed's "worker = request" invites: heap + worker + non-heap > limit."""
    opts = catalina_opts(memory, "single-node")
    worker = int(opts.split("-DFLOW_WORKER_MEMORY_MB=")[1].split()[0])
    heap_gib = int(opts.split("-Xmx")[1].rstrip("g"))
    assert heap_gib * 1024 + 512 + worker <= mebibytes(memory)


def test_distributed_worker_caps_come_from_arguments() -> None:
    opts = catalina_opts("32Gi", "distributed", worker_memory_mb=2048, worker_cores=4)
    assert opts == "-DFLOW_WORKER_MEMORY_MB=2048 -DFLOW_WORKER_CORES=4 -Xmx28g"


def test_distributed_heap_leaves_room_for_the_internal_worker_on_small_requests() -> None:
    # 7/8 of 4Gi would be 3g, but 3g + 1024 MB + non-heap overflows 4Gi
    assert catalina_opts("4Gi", "distributed").endswith("-Xmx2g")


def test_truststore_only_with_a_ca_bundle_and_before_the_heap() -> None:
    assert "trustStore" not in catalina_opts("16Gi", "distributed")
    opts = catalina_opts("16Gi", "distributed", truststore=True)
    assert opts == (
        "-DFLOW_WORKER_MEMORY_MB=1024 -DFLOW_WORKER_CORES=2 "
        "-Djavax.net.ssl.trustStore=/etc/flowconfig/cacerts -Xmx14g"
    )


def test_extra_jvm_options_pass_through_at_the_end() -> None:
    opts = catalina_opts("16Gi", "distributed", extra=["-XX:+UseG1GC", "-Duser.timezone=UTC"])
    assert opts.endswith("-Xmx14g -XX:+UseG1GC -Duser.timezone=UTC")


@pytest.mark.parametrize("option", ["-Xmx20g", "-Xms4g", "-DFLOW_WORKER_CORES=8", "-XX:MaxRAMPercentage=80"])
def test_extra_options_cannot_override_the_sizing(option: str) -> None:
    with pytest.raises(SizingError, match="would override the sizing"):
        catalina_opts("16Gi", "distributed", extra=[option])


@pytest.mark.parametrize(
    ("memory", "mode", "fragment"),
    [
        ("4Gi", "single-node", "too small (use at least 6Gi)"),
        ("5Gi", "single-node", "too small (use at least 6Gi)"),
        ("1Gi", "distributed", "do not fit in the memory request 1Gi"),
    ],
)
def test_a_heap_that_does_not_fit_is_an_error(memory: str, mode: str, fragment: str) -> None:
    with pytest.raises(SizingError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        catalina_opts(memory, mode)  # type: ignore[arg-type]


def test_a_good_license_has_no_problems() -> None:
    assert flexlm_license_problems(GOOD_LICENSE) == []


def test_a_license_without_server_line() -> None:
    [problem] = flexlm_license_problems(GOOD_LICENSE.replace("SERVER flexlmserver 0242ac120002 27000\n", ""))
    assert "no SERVER line" in problem


def test_a_vendor_line_without_the_pinned_port_says_what_to_ask_for() -> None:
    [problem] = flexlm_license_problems(GOOD_LICENSE.replace(" PORT=27001", ""))
    assert "must pin PORT=27001" in problem
    assert "VENDOR parteklm PORT=27001" in problem
    [problem] = flexlm_license_problems(GOOD_LICENSE.replace("PORT=27001", "PORT=28000"))
    assert "must pin PORT=27001" in problem


def test_a_license_without_vendor_line() -> None:
    [problem] = flexlm_license_problems("SERVER host 0242ac120002 27000\n")
    assert "no VENDOR line" in problem


@pytest.mark.parametrize("address", ["@flexlm.example.com", "27000@flexlm.example.com", "@10.0.0.5"])
def test_external_addresses_in_both_forms(address: str) -> None:
    assert license_address_problems(address) == []


@pytest.mark.parametrize("address", ["flexlm.example.com", "27000:flexlm", "@", "99999@host"])
def test_malformed_external_addresses(address: str) -> None:
    assert license_address_problems(address)


def test_service_address_names_port_service_and_namespace() -> None:
    assert (
        service_license_address("flexlmserver", "partek-license-prd")
        == "27000@flexlmserver.partek-license-prd.svc"
    )
