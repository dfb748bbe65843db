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


def test_ci_runs_exactly_the_readmes_test_command_and_fails_when_it_fails() -> None:
    command = _readme_test_command()
    assert command == ".venv/bin/python -m pytest"
    runs = [line for line in _commands((ROOT / ".ci" / "run").read_text()) if "pytest" in line]
    assert runs == [f"{command} || TESTS=$?"], runs
    script = (ROOT / ".ci" / "run").read_text()
    assert 'if [ "$TESTS" != 0 ] || [ "$MYPY" != 0 ]; then' in script


def test_ci_keeps_every_check() -> None:
    commands = _commands((ROOT / ".ci" / "run").read_text())
    for check in (
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy components stacks || status=1",
        ".venv/bin/mypy policy || status=1",
        'wait "$MYPY_PID" || MYPY=$?',
    ):
        assert check in commands, check
    assert "set -euo pipefail" in commands
