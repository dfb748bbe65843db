"""HyperFlow: the workflow engine, its redis, its job template and RBAC, and shared /work_dir storage."""

from .hyperflow_engine import (
    HyperflowEngine,
    HyperflowEngineArgs,
    engine_role_rules,
    job_template,
)
from .hyperflow_jobs import HyperflowJobs, HyperflowJobsArgs, OneShotJob
from .nfs_server import InClusterNfsServer, InClusterNfsServerArgs
from .pods import HYPERFLOW_UID
from .redis import HyperflowRedis, HyperflowRedisArgs

__all__ = [
    "HYPERFLOW_UID",
    "HyperflowEngine",
    "HyperflowEngineArgs",
    "HyperflowJobs",
    "HyperflowJobsArgs",
    "HyperflowRedis",
    "HyperflowRedisArgs",
    "InClusterNfsServer",
    "InClusterNfsServerArgs",
    "OneShotJob",
    "engine_role_rules",
    "job_template",
]
