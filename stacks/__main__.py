"""Pulumi entry point (``main: stacks/`` in Pulumi.yaml)."""

from flow_platform_stacks.program import main

main()
