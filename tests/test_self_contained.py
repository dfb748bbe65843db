"""The repository holds everything its tests and code read: a clone needs nothing beside it."""

import re

from conftest import DATA, ROOT
from flow_platform.flink.configuration import OPERATOR_VERSION

# spelled in pieces so this file does not match itself
_SIBLING = re.compile(
    r"\.\./" + r"shared|\.parent\s*/\s*['\"]" + r"shared['\"]|parents\[\d\]\s*/\s*['\"]shared"
)
_SCANNED = ("tests", "components", "stacks", "policy")
_TEXT = {".py", ".yaml", ".yml", ".json", ".md", ".txt", ".toml", ".cfg", ".ini", ".sh"}


def _references(text: str) -> list[str]:
    return [m.group(0) for m in _SIBLING.finditer(text)]


def test_the_pattern_finds_each_way_of_reaching_the_sibling_directory() -> None:
    assert _references('SHARED = ROOT.parent / "sha' + 'red"')
    assert _references("open('../" + "shared/crds/x.yml')")
    assert _references("Path(__file__).parents[2] / 'sha" + "red'")
    assert not _references('"shared-file classes"; shared_volume(...)')


def test_no_test_component_stack_or_policy_file_reads_the_sibling_shared_directory() -> None:
    found = []
    for top in _SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in _TEXT or not path.is_file() or ".venv" in path.parts:
                continue
            for hit in _references(path.read_text(errors="replace")):
                found.append(f"{path.relative_to(ROOT)}: {hit}")
    assert not found, "copy what is needed into tests/data/ (with source and version):\n" + "\n".join(found)


def test_copied_crds_are_those_of_the_pinned_operator_release() -> None:
    folder = DATA / "crds" / f"flink-kubernetes-operator-{OPERATOR_VERSION}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "flinkdeployments.flink.apache.org-v1.yml",
        "flinksessionjobs.flink.apache.org-v1.yml",
        "flinkstatesnapshots.flink.apache.org-v1.yml",
    ]
    readme = (DATA / "README.md").read_text()
    assert f"release-{OPERATOR_VERSION}" in readme and "1b5949891b3c" in readme
