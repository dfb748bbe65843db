"""The CLI's own overhead: `--help` answers without importing the SDKs; the command skips the GC.

Not timed (the machine is shared); what makes it fast is checked instead. Timings: benchmarks/.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
from flow_platform_stacks.tooling import cli
try:
    cli.run()
except SystemExit as exit_:
    code = exit_.code
HEAVY = ("pulumi", "pulumi_kubernetes", "pulumi_aws", "pydantic", "yaml", "kubernetes", "urllib3")
heavy = sorted(m for m in HEAVY if m in sys.modules)
import gc
print(json.dumps({"code": code, "heavy": heavy, "gc": gc.isenabled()}))
"""


def _probe(*argv: str) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, cwd=ROOT, check=False
    )
    *text, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(text) + done.stderr


def test_help_imports_neither_pulumi_nor_pydantic() -> None:
    result, text = _probe("--help")
    assert result["code"] == 0 and "render" in text and "check" in text
    assert result["heavy"] == [], f"`flow-platform --help` imported {result['heavy']}"


def test_nfr_help_imports_neither_the_sdks_nor_the_kubernetes_client() -> None:
    result, text = _probe("nfr", "--help")
    assert result["code"] == 0 and "--prometheus-url" in text and "--json" in text
    assert result["heavy"] == [], f"`flow-platform nfr --help` imported {result['heavy']}"


def test_a_usage_error_is_answered_without_the_sdks_too() -> None:
    result, text = _probe("render")
    assert result["code"] == 2 and "the following arguments are required: stack" in text
    assert result["heavy"] == []


def test_the_command_runs_without_the_garbage_collector_and_exits_with_mains_code() -> None:
    result, text = _probe("render", "no-such-stack")
    assert result["code"] == 2 and "no stack file" in text
    assert result["gc"] is False


def test_the_console_script_is_the_gc_free_entry_point() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["flow-platform"] == "flow_platform_stacks.tooling.cli:run"
