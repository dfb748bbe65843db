"""The flow-platform component package: every public component, served to any Pulumi language.

``pulumi package add <this repository>`` reads ``PulumiPlugin.yaml`` (runtime python), and the
Python language host runs the repository's ``__main__.py`` as ``python <plugin dir> <engine
address>``; that calls :func:`main`, which hosts :data:`COMPONENTS` with Pulumi's
``component_provider_host``. The engine then asks for the schema (``GetSchema``) and generates an
SDK in the consumer's language.

The same module regenerates the committed reference files::

    python -m flow_platform.provider write      # schema.json and docs/components.md
    python -m flow_platform.provider schema     # print the schema
    python -m flow_platform.provider docs       # print the Markdown reference
"""

import argparse
import importlib.metadata
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pulumi

from . import PACKAGE
from .aws import EcrMirror, EfsSharedVolume, ImageCopyJob
from .eventflow import EventFlowCluster
from .flink import FlinkCluster, FlinkOperator
from .hyperflow import HyperflowEngine, HyperflowJobs, HyperflowRedis, InClusterNfsServer
from .k8s import NamespaceGuardrails
from .monitoring import NfrRules
from .openflow import (
    OpenflowApplication,
    OpenflowScheduledApplication,
    OpenflowSubmitEnvironment,
    SparkOperator,
)
from .partek import FlexLMServer, FlowHeadnode, FlowWorkers

COMPONENTS: list[type[pulumi.ComponentResource]] = [
    NamespaceGuardrails,
    FlexLMServer,
    FlowHeadnode,
    FlowWorkers,
    FlinkOperator,
    FlinkCluster,
    HyperflowEngine,
    HyperflowRedis,
    HyperflowJobs,
    InClusterNfsServer,
    OpenflowSubmitEnvironment,
    EventFlowCluster,
    SparkOperator,
    OpenflowApplication,
    OpenflowScheduledApplication,
    EfsSharedVolume,
    EcrMirror,
    ImageCopyJob,
    NfrRules,
]
"""Every public component; each has the type token ``flow-platform:index:<Class>``."""

SCHEMA_FILE = "schema.json"
DOCS_FILE = "docs/components.md"
TOOL_COMMANDS = ("schema", "docs", "write")


def package_version() -> str:
    """The version in ``pyproject.toml`` (read from the source tree, else the installed metadata)."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        project: dict[str, Any] = tomllib.loads(pyproject.read_text())["project"]
        if project.get("name") == PACKAGE:
            return str(project["version"])
    return importlib.metadata.version(PACKAGE)


def schema() -> str:
    """The package schema as ``GetSchema`` returns it, computed offline from the type annotations."""
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(COMPONENTS, PACKAGE, None, package_version())
    return str(provider.schema)


def schema_file_text(schema_json: str | None = None) -> str:
    """The committed ``schema.json``: the same document, indented and key-sorted for review."""
    return json.dumps(json.loads(schema_json or schema()), indent=2, sort_keys=True) + "\n"


def vendored_charts() -> list[tuple[Path, str]]:
    """The vendored charts with CRDs: chart directory and the pattern of its ``crds/`` files."""
    from .flink import operator_chart
    from .openflow import spark_operator_chart

    return [(m.CHART_DIR, m.CRD_FILES) for m in (operator_chart, spark_operator_chart)]


def write(root: Path) -> list[Path]:
    """Regenerate ``schema.json`` and ``docs/components.md`` under ``root``, and each vendored
    chart's ``crds.json`` (in the package)."""
    from .k8s.chart import PARSED_CRDS, parsed_crds_text
    from .reference import markdown

    schema_json = schema()
    outputs = {
        root / SCHEMA_FILE: schema_file_text(schema_json),
        root / DOCS_FILE: markdown(json.loads(schema_json)),
    }
    for chart_dir, pattern in vendored_charts():
        outputs[chart_dir / PARSED_CRDS] = parsed_crds_text(chart_dir, pattern)
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(outputs)


def host() -> None:
    """Serve the components to the engine (argv: the engine address, then engine flags)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(COMPONENTS, PACKAGE, None, package_version())


def main(argv: list[str] | None = None) -> int:
    """Host the components for the engine, or (with a tool command) print or write the reference."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in TOOL_COMMANDS:
        host()
        return 0
    parser = argparse.ArgumentParser(prog="python -m flow_platform.provider")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("schema", help="print the package schema (what GetSchema returns)")
    sub.add_parser("docs", help="print docs/components.md")
    write_parser = sub.add_parser(
        "write", help="regenerate schema.json, docs/components.md and the vendored charts' crds.json"
    )
    write_parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: .)")
    options = parser.parse_args(args)
    if options.command == "schema":
        sys.stdout.write(schema_file_text())
    elif options.command == "docs":
        from .reference import markdown

        sys.stdout.write(markdown(json.loads(schema())))
    else:
        for path in write(options.root):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
