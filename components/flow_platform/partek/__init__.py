"""Partek Flow: FlexLM license server, Flow headnode and elastic workers."""

from .flexlm_server import FlexLMServer, FlexLMServerArgs, license_server_selector
from .flow_headnode import (
    FLOW_UID,
    WORKER_PORT,
    FlowHeadnode,
    FlowHeadnodeArgs,
    LicenseServerPeer,
    headnode_selector,
)
from .flow_workers import FlowWorkers, FlowWorkersArgs
from .licensing import (
    LICENSE_FILE_PATH,
    LMGRD_PORT,
    VENDOR_PORT,
    flexlm_license_problems,
    license_address_problems,
    service_license_address,
)
from .sizing import (
    DISTRIBUTED,
    HOME_NOMINAL_CAPACITY,
    SINGLE_NODE,
    HeadnodeMode,
    SizingError,
    catalina_opts,
)

__all__ = [
    "DISTRIBUTED",
    "FLOW_UID",
    "HOME_NOMINAL_CAPACITY",
    "LICENSE_FILE_PATH",
    "LMGRD_PORT",
    "SINGLE_NODE",
    "VENDOR_PORT",
    "WORKER_PORT",
    "FlexLMServer",
    "FlexLMServerArgs",
    "FlowHeadnode",
    "FlowHeadnodeArgs",
    "FlowWorkers",
    "FlowWorkersArgs",
    "HeadnodeMode",
    "LicenseServerPeer",
    "SizingError",
    "catalina_opts",
    "flexlm_license_problems",
    "headnode_selector",
    "license_address_problems",
    "license_server_selector",
    "service_license_address",
]
