"""The integration tier's fixtures: one real etcd + kube-apiserver per test session.

Skips (with the reason) when the binaries are missing, unless FLOW_PLATFORM_REQUIRE_APISERVER=1,
where a missing binary fails the run instead (CI sets it, so the tier cannot silently vanish).
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import ENVS, Stack, _rendered

from .apiserver import REQUIRE_ENV, ApiServer, BinariesMissing, Client, find_binaries
from .cluster import admission_problems, apply_order, install_crds, make_real, stack_crds


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (``--dist loadgroup``) the tests that use the API server run on one worker: one
    server per run, not one per worker."""
    for item in items:
        if "apiserver" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("apiserver"))


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A running kube-apiserver (and its etcd) on 127.0.0.1, stopped by PID at session end."""
    try:
        binaries = find_binaries()
    except BinariesMissing as missing:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {missing}", pytrace=False)
        pytest.skip(f"no real API server: {missing}")
    server = ApiServer(binaries, tmp_path_factory.mktemp("apiserver"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kube(apiserver: ApiServer) -> Iterator[Client]:
    """An admin client (system:masters) of the session's API server."""
    client = apiserver.client()
    try:
        yield client
    finally:
        client.close()


@dataclass
class AppliedEnv:
    """An env's stack after the tier applied it: what the API server said."""

    stack: Stack
    objects: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)


class Cluster:
    """Applies each env once per session, CRDs first (cluster-scoped, shared by all envs)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._applied: dict[str, AppliedEnv] = {}
        # dev relies on the operator (and its CRDs) that tst installs on the shared cluster, so
        # the CRDs of every env go in first, as they would be on each env's cluster.
        install_crds(client, stack_crds(_rendered(env).registrations for env in ENVS))

    def env(self, env: str) -> AppliedEnv:
        if env not in self._applied:
            stack = _rendered(env)
            objects = [r.inputs for r in apply_order(stack.registrations)]
            applied = AppliedEnv(stack, objects, admission_problems(self.client, objects))
            make_real(self.client, objects)
            self._applied[env] = applied
        return self._applied[env]


@pytest.fixture(scope="session")
def cluster(kube: Client) -> Cluster:
    return Cluster(kube)


@pytest.fixture(params=ENVS)
def applied(request: pytest.FixtureRequest, cluster: Cluster) -> AppliedEnv:
    """Each env's stack, admitted (or not) by the real API server."""
    return cluster.env(request.param)
