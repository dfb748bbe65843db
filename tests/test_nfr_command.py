"""``flow-platform nfr`` without a cluster: what a broken or foreign Prometheus answers becomes one
clear line, and a stack that measures nothing says so (the live reads: tests/integration/test_nfr_cli.py)."""

import contextlib
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import ROOT
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.nfr import NfrError, prometheus_query


@contextlib.contextmanager
def _serving(status: int, body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"<html>Grafana</html>", "did not answer as the Prometheus HTTP API"),
        (
            400,
            b'{"status":"error","errorType":"bad_data","error":"parse error at char 3"}',
            "answered HTTP 400: bad_data: parse error at char 3",
        ),
        (503, b"Service Unavailable", "answered HTTP 503: Service Unavailable"),
        (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}', "without a vector"),
        (
            200,
            b'{"status":"error","errorType":"timeout","error":"query timed out"}',
            "could not run the query: timeout: query timed out",
        ),
    ],
)
def test_what_prometheus_answers_wrongly_is_one_clear_error(status: int, body: bytes, message: str) -> None:
    with _serving(status, body) as url, pytest.raises(NfrError) as raised:
        prometheus_query(url, "up")
    assert message in str(raised.value)


def test_a_vector_is_returned_as_is() -> None:
    body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}'
    with _serving(200, body) as url:
        assert prometheus_query(url, "up") == [{"metric": {}, "value": [1, "2"]}]


def _nfr(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["nfr", *argv, "--project-dir", str(ROOT)])
    return code, err.getvalue()


def test_a_stack_without_a_system_that_measures_nfrs_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from flow_platform_stacks.config import monitoring

    monkeypatch.setattr(monitoring, "nfr_systems", lambda: ["hyperflow"])  # uat runs no HyperFlow
    code, err = _nfr("uat", "--prometheus-url", "http://localhost:9090")
    assert code == 2 and "stack 'uat' runs no system that measures NFRs (hyperflow)" in err


def test_a_bad_prometheus_url_and_an_unknown_namespace_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flow_platform_stacks.config import monitoring

    monkeypatch.setattr(monitoring, "nfr_systems", lambda: ["hyperflow"])
    code, err = _nfr("dev", "--prometheus-url", "localhost:9090")
    assert code == 2 and "--prometheus-url: 'localhost:9090' is not a Prometheus URL" in err
    code, err = _nfr("dev", "--prometheus-url", "http://localhost:9090", "--namespace", "partek-dev")
    assert code == 2 and "--namespace partek-dev: not measured here (measured: hyperflow-dev)" in err
