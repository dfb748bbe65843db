"""FlexLM license facts: ports, the license address the headnode uses, and license-file checks.

FlexLM binds a license to a MAC address; Partek's FlexLM image creates an interface with that
MAC address inside its pod. The vendor daemon's port is random unless the license pins it, so the
license must read ``VENDOR parteklm PORT=27001`` to match the Service.
"""

import re

LMGRD_PORT = 27000
VENDOR_PORT = 27001
LICENSE_FILE_PATH = "/home/flow/.partekflow/license/Partek.lic"
"""Where the headnode reads a license file in ``file`` mode (on the /home/flow volume)."""

_EXTERNAL = re.compile(r"^(?P<port>\d{1,5})?@(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def service_license_address(service: str, namespace: str, port: int = LMGRD_PORT) -> str:
    """``port@host`` for a license server Service in the cluster."""
    return f"{port}@{service}.{namespace}.svc"


def license_address_problems(address: str) -> list[str]:
    """Problems with an external license server address (``@host`` or ``port@host``)."""
    match = _EXTERNAL.match(address.strip())
    if not match:
        return [
            f"{address!r} is not a FlexLM server address: use @host or port@host (e.g. 27000@lic.example.com)"
        ]
    port = match.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        return [f"port {port} is out of range"]
    return []


def flexlm_license_problems(text: str, vendor_port: int = VENDOR_PORT) -> list[str]:
    """What is wrong with a license file for the in-cluster FlexLM server (empty when usable)."""
    lines = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    problems = []
    if not any(re.match(r"^SERVER\s+\S+\s+\S+", line) for line in lines):
        problems.append(
            "the license has no SERVER line (SERVER <host> <MAC address> ...):"
            " ask Partek for a server license"
        )
    vendors = [line for line in lines if re.match(r"^VENDOR\s+\S+", line)]
    if not vendors:
        problems.append(
            f"the license has no VENDOR line: ask Partek for one reading 'VENDOR parteklm PORT={vendor_port}'"
        )
    for vendor in vendors:
        port = re.search(r"\bPORT=(\d+)", vendor)
        if port is None or int(port.group(1)) != vendor_port:
            problems.append(
                f"the VENDOR line {vendor!r} must pin PORT={vendor_port} to match the Service:"
                f" ask Partek for a license reading 'VENDOR parteklm PORT={vendor_port}'"
            )
    return problems
