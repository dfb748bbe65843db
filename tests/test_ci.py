"""CI (.ci/run) runs every check and exactly the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text: str) -> list[str]:
    """The script's command lines, comments (whole-line and trailing) and blank lines left out."""
    lines = (line.split("  #")[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## First commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    [command] = [b.strip() for b in blocks if "pytest" in b]
    return command


def test_ci_runs_exactly_the_readmes_test_command_and_a_mypy_failure_fails_it() -> None:
    command = _readme_test_command()
    assert command == ".venv/bin/python -m pytest"
    commands = _commands((ROOT / ".ci" / "run").read_text())
    assert [line for line in commands if "pytest" in line] == [command]
    assert commands[-1] == command, "the tests' exit status is the script's"
    # mypy runs beside the tests: the EXIT trap waits for it and fails a run the tests passed
    assert "trap mypy_result EXIT" in commands
    assert 'if [ "$status" = 0 ] && [ "$mypy" != 0 ]; then' in commands


def test_ci_keeps_every_check() -> None:
    commands = _commands((ROOT / ".ci" / "run").read_text())
    for check in (
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy components stacks || status=1",
        ".venv/bin/mypy policy || status=1",
        'wait "$MYPY_PID" || mypy=$?',
    ):
        assert check in commands, check
    assert "set -euo pipefail" in commands
