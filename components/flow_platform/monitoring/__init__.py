"""Monitoring: the live NFRs (pod restarts, workloads meeting the recommended ulimit)."""

from .nfr_rules import NfrReader, NfrRules, NfrRulesArgs, SubjectKind
from .promql import DEFAULT_MAX_RESTARTS, DEFAULT_MIN_ULIMIT_PERCENT, DEFAULT_ULIMIT_THRESHOLD, rule_groups

__all__ = [
    "DEFAULT_MAX_RESTARTS",
    "DEFAULT_MIN_ULIMIT_PERCENT",
    "DEFAULT_ULIMIT_THRESHOLD",
    "NfrReader",
    "NfrRules",
    "NfrRulesArgs",
    "SubjectKind",
    "rule_groups",
]
