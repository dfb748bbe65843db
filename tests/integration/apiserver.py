"""A real etcd + kube-apiserver on 127.0.0.1 for tests, and a small client for it.

The binaries are found the way controller-runtime's envtest finds them: the directory named by
``KUBEBUILDER_ASSETS`` (what ``setup-envtest use -p path`` prints), else ``PATH``. Certificates are
self-signed and made here; an admin token authenticates the tests (static token file). The server
runs the upstream default admission chain plus PodSecurity, and the Node and RBAC authorizers, so
it admits, warns and authorizes the way an EKS control plane of the same minor version does.
"""

import contextlib
import datetime
import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ASSETS_ENV = "KUBEBUILDER_ASSETS"
REQUIRE_ENV = "FLOW_PLATFORM_REQUIRE_APISERVER"
BINARIES = ("etcd", "kube-apiserver")
ADMIN_TOKEN = "flow-platform-admin-token"
FIELD_MANAGER = "flow-platform"
READY_TIMEOUT = 90.0


class BinariesMissing(RuntimeError):
    """etcd or kube-apiserver cannot be found; the message says where we looked."""


def find_binaries(environ: Mapping[str, str] | None = None) -> dict[str, Path]:
    """etcd and kube-apiserver from ``$KUBEBUILDER_ASSETS``, else from ``PATH``."""
    environ = os.environ if environ is None else environ
    assets = environ.get(ASSETS_ENV)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in BINARIES:
        if assets:
            candidate = Path(assets) / name
            path = str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
        else:
            path = shutil.which(name, path=environ.get("PATH"))
        if path is None:
            missing.append(name)
        else:
            found[name] = Path(path)
    if missing:
        where = f"{ASSETS_ENV}={assets}" if assets else f"PATH (set {ASSETS_ENV} to a directory holding them)"
        raise BinariesMissing(
            f"{' and '.join(missing)} not found in {where}; see README 'Development' (setup-envtest)"
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- certificates ------------------------------------------------------------------------------


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_certificates(directory: Path) -> dict[str, Path]:
    """A CA, a serving certificate for 127.0.0.1/localhost, and the service-account signing key."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flow-platform-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName("kubernetes.default.svc"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "apiserver.crt": cert.public_bytes(serialization.Encoding.PEM),
        "apiserver.key": _pem_key(key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }
    paths = {}
    for name, content in files.items():
        path = directory / name
        path.write_bytes(content)
        path.chmod(0o600)
        paths[name] = path
    return paths


# --- client --------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: Any
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message") or self.body)
        return str(self.body)


class ApiError(RuntimeError):
    def __init__(self, what: str, response: Response) -> None:
        super().__init__(f"{what}: HTTP {response.status}: {response.message}")
        self.response = response


def _warning_text(header: str) -> str:
    """``299 - "text"`` (RFC 7234 warn-code, agent, quoted text) -> text."""
    parts = header.split(" ", 2)
    text = parts[2] if len(parts) == 3 else header
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


class Client:
    """JSON over one kept-alive HTTPS connection; enough for apply, create and reviews."""

    def __init__(self, port: int, ca_file: Path, token: str) -> None:
        self.port = port
        self.token = token
        self._context = ssl.create_default_context(cafile=str(ca_file))
        self._connection: http.client.HTTPSConnection | None = None
        self._resources: dict[str, dict[str, dict[str, Any]]] = {}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, context=self._context, timeout=30
                )
            try:
                self._connection.request(method, path, body=data, headers=headers)
                reply = self._connection.getresponse()
                raw = reply.read()
            except (ConnectionError, http.client.HTTPException, ssl.SSLError):
                self.close()
                if attempt == 2:
                    raise
                continue
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            warnings = [_warning_text(w) for w in reply.headers.get_all("Warning") or []]
            return Response(reply.status, parsed, warnings)
        raise AssertionError("unreachable")

    # discovery -----------------------------------------------------------------------------------

    def _group_resources(self, api_version: str, refresh: bool = False) -> dict[str, dict[str, Any]]:
        if refresh or api_version not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            response = self.request("GET", base)
            if response.status == 404:
                return {}
            if not response.ok:
                raise ApiError(f"discovery of {api_version}", response)
            self._resources[api_version] = {
                r["kind"]: r for r in response.body["resources"] if "/" not in r["name"]
            }
        return self._resources[api_version]

    def path_of(self, obj: Mapping[str, Any], named: bool = True) -> str:
        """The REST path of an object (its collection when ``named`` is false)."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        resource = self._group_resources(api_version).get(kind) or self._group_resources(
            api_version, refresh=True
        ).get(kind)
        if resource is None:
            raise LookupError(f"the API server serves no {kind} in {api_version}")
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        metadata = obj.get("metadata") or {}
        if resource["namespaced"]:
            base = f"{base}/namespaces/{metadata['namespace']}"
        path = f"{base}/{resource['name']}"
        return f"{path}/{metadata['name']}" if named else path

    # verbs --------------------------------------------------------------------------------------

    def apply(self, obj: Mapping[str, Any], dry_run: bool = True) -> Response:
        """Server-side apply as ``flow-platform`` with strict field validation."""
        params = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": "true"}
        if dry_run:
            params["dryRun"] = "All"
        return self.request(
            "PATCH", self.path_of(obj), obj, params, content_type="application/apply-patch+yaml"
        )

    def create(self, obj: Mapping[str, Any], dry_run: bool = False) -> Response:
        params = {"fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        return self.request("POST", self.path_of(obj, named=False), obj, params)

    def get(self, obj: Mapping[str, Any]) -> Response:
        return self.request("GET", self.path_of(obj))

    def must(self, what: str, response: Response) -> Response:
        if not response.ok:
            raise ApiError(what, response)
        return response

    def wait_for_crd(self, name: str, timeout: float = 30.0) -> None:
        """Until the CRD is Established (its REST endpoint serves)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conditions = (
                ((response.body or {}).get("status") or {}).get("conditions") or [] if response.ok else []
            )
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not Established after {timeout} s: {conditions}")
            time.sleep(0.1)

    def can(
        self,
        user: str,
        groups: list[str],
        verb: str,
        resource: str,
        namespace: str | None = None,
        group: str = "",
        subresource: str = "",
        name: str = "",
    ) -> bool:
        """A SubjectAccessReview: may ``user`` do ``verb`` on ``resource``?"""
        attributes = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attributes["namespace"] = namespace
        if subresource:
            attributes["subresource"] = subresource
        if name:
            attributes["name"] = name
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups, "resourceAttributes": attributes},
        }
        response = self.must(
            "SubjectAccessReview",
            self.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review),
        )
        return bool(response.body["status"].get("allowed"))


# --- processes -----------------------------------------------------------------------------------


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after 10 s."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ApiServer:
    """etcd and kube-apiserver started together in a private directory, stopped by PID."""

    def __init__(self, binaries: Mapping[str, Path], workdir: Path) -> None:
        self.binaries = dict(binaries)
        self.workdir = workdir
        self.port = 0
        self.etcd: subprocess.Popen[bytes] | None = None
        self.apiserver: subprocess.Popen[bytes] | None = None
        self._etcd_dir: Path | None = None

    def start(self) -> "ApiServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        certs = write_certificates(self.workdir)
        self.ca_file = certs["ca.crt"]
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{ADMIN_TOKEN},flow-platform-admin,uid-admin,"system:masters"\n')
        # etcd's fsyncs dominate start-up and writes; a RAM disk keeps the tier fast where there is one
        shm = Path("/dev/shm")
        ram = shm.is_dir() and os.access(shm, os.W_OK)
        self._etcd_dir = Path(tempfile.mkdtemp(prefix="flow-platform-etcd-", dir=shm if ram else None))
        client_port, peer_port, metrics_port, self.port = (free_port() for _ in range(4))
        etcd_url = f"http://127.0.0.1:{client_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self.etcd = self._spawn(
            "etcd",
            [
                f"--data-dir={self._etcd_dir}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                f"--listen-metrics-urls=http://127.0.0.1:{metrics_port}",
                "--log-level=warn",
            ],
        )
        self.apiserver = self._spawn(
            "kube-apiserver",
            [
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--etcd-servers={etcd_url}",
                f"--cert-dir={self.workdir}",
                f"--tls-cert-file={certs['apiserver.crt']}",
                f"--tls-private-key-file={certs['apiserver.key']}",
                f"--client-ca-file={certs['ca.crt']}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={certs['sa.pub']}",
                f"--service-account-signing-key-file={certs['sa.key']}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--allow-privileged=true",
                "--enable-admission-plugins=PodSecurity",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                # Debian's etcd 3.4.23 lacks the watch-progress support (3.4.31+) the server's
                # streaming lists need: without this, every watch with sendInitialEvents (Spark's
                # fabric8 client) gets HTTP 500 and clients fall back to slow polling; EKS's etcd has it
                "--feature-gates=WatchList=false",
            ],
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        with log:
            return subprocess.Popen(
                [str(self.binaries[name]), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

    def _wait_ready(self) -> None:
        client = self.client()
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        try:
            while time.monotonic() < deadline:
                for name, process in (("etcd", self.etcd), ("kube-apiserver", self.apiserver)):
                    if process is not None and process.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited with {process.returncode}:\n{_tail(self.workdir / f'{name}.log')}"
                        )
                try:
                    response = client.request("GET", "/readyz")
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
                except OSError as error:
                    last = str(error)
                    client.close()
                time.sleep(0.2)
        finally:
            client.close()
        raise TimeoutError(
            f"kube-apiserver not ready after {READY_TIMEOUT} s ({last}):\n"
            f"{_tail(self.workdir / 'kube-apiserver.log')}"
        )

    def client(self, token: str = ADMIN_TOKEN) -> Client:
        return Client(self.port, self.ca_file, token)

    def stop(self) -> None:
        _stop(self.apiserver)
        _stop(self.etcd)
        if self._etcd_dir is not None:
            shutil.rmtree(self._etcd_dir, ignore_errors=True)
            self._etcd_dir = None


@contextlib.contextmanager
def running(binaries: Mapping[str, Path], workdir: Path) -> Iterator[ApiServer]:
    server = ApiServer(binaries, workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
