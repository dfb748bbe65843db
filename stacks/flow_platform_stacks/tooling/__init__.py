"""Offline tooling around the stack program: mocks harness, render, policy check and the CLI.

Apart from the program (``flow_platform_stacks.program``), which ``pulumi up`` runs and which never
imports this package.
"""
