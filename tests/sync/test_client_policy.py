"""The HTTP client's policy: where it may connect, TLS always verified, every answer typed."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sofs_tui.sync import client as client_module
from sofs_tui.sync.client import (
    BadRequest,
    BadResponse,
    CertificateError,
    DeviceRevoked,
    Forbidden,
    Gone,
    InsecureURL,
    Offline,
    ServerBusy,
    SyncClient,
    SyncError,
    Timeout,
    TooLarge,
    Unauthorised,
    UpgradeRequired,
    check_base_url,
    parse_retry_after,
)
from sofs_tui.sync.protocol import InfoResponse, Limits, SchemaRange
from tests.sync.fake_server import SERVER_TIME

DEVICE = "0b7c1d4e-58f4-4b0e-9d7e-5f3c2a1b0c9d"
INFO = InfoResponse(
    protocol_versions=[1],
    schema_versions=SchemaRange(min=1, max=2, current=2),
    server_epoch="epoch-1",
    server_time=SERVER_TIME,
    limits=Limits(max_batch_changes=100, max_batch_bytes=1_048_576, max_page=500),
)


# --- Where the client may connect (R33, R34) -------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://sofs.council.example", "https://sofs.council.example"),
        ("https://sofs.council.example/sync-service/", "https://sofs.council.example/sync-service"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.9.9.9", "http://127.9.9.9"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
    ],
)
def test_https_anywhere_and_plain_http_only_to_this_computer_are_accepted(
    given: str, kept: str
) -> None:
    assert check_base_url(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "http://sofs.council.example",
        "http://10.0.0.5:8000",
        "http://127.0.0.1.nip.io",
        "ftp://sofs.council.example",
        "https://worker:secret@sofs.council.example",
        "https://sofs.council.example/?name=Smith",
        "https://sofs.council.example/#x",
        "sofs.council.example",
        "",
    ],
)
def test_insecure_or_odd_addresses_are_refused_before_any_request(given: str) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    with pytest.raises(InsecureURL):
        SyncClient(given, transport=transport)
    assert calls == []


def test_a_missing_ca_file_is_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="does not exist"):
        SyncClient("https://sofs.test", ca_file=tmp_path / "missing.pem")


def _pem_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A test certificate authority and a certificate it signed for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sofs test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = (tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
async def tls_service(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A one-route HTTPS service on 127.0.0.1 with a certificate from a private CA."""
    ca_path, cert_path, key_path = _pem_pair(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    body = INFO.model_dump_json(by_alias=True).encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
            pass  # the client refused our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}", ca_path
    finally:
        server.close()
        await server.wait_closed()


async def test_R33_an_untrusted_certificate_is_refused(tls_service: tuple[str, Path]) -> None:
    url, _ca = tls_service
    async with SyncClient(url) as client:
        with pytest.raises(CertificateError) as refused:
            await client.info()
    assert "--ca-file" in refused.value.user_message


async def test_R33_the_councils_own_ca_is_trusted_when_given(
    tls_service: tuple[str, Path],
) -> None:
    url, ca = tls_service
    async with SyncClient(url, ca_file=ca) as client:
        assert await client.info() == INFO


# --- What goes out ------------------------------------------------------------------------


async def test_requests_carry_the_token_in_a_header_and_only_ids_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"detail": "x"})

    async with SyncClient("https://sofs.test/base", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(BadResponse):
            await c.pull("access-secret", "opaque-cursor", 50)
    [request] = seen
    assert request.url.path == "/base/sync/v1/changes"
    assert dict(request.url.params) == {"cursor": "opaque-cursor", "limit": "50"}
    assert "access-secret" not in str(request.url)
    assert request.headers["authorization"] == "Bearer access-secret"
    assert request.headers["sync-protocol"] == "1" and request.headers["client-schema"] == "2"


async def test_the_first_pull_sends_no_cursor() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    async with SyncClient("https://sofs.test", transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(BadResponse):
            await c.pull("t", None, 500)
    assert dict(seen[0].url.params) == {"limit": "500"}


# --- What comes back ------------------------------------------------------------------------


def _answering(
    status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body, headers={"content-type": "application/json", **(headers or {})}
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, b'{"detail": "bad"}', BadRequest),
        (422, b'{"detail": []}', BadRequest),
        (401, b'{"detail": "not signed in"}', Unauthorised),
        (403, b'{"detail": "device_revoked"}', DeviceRevoked),
        (403, b'{"detail": "role"}', Forbidden),
        (404, b'{"detail": "not found"}', BadResponse),
        (302, b"", BadResponse),
        (410, b'{"detail": "resync"}', Gone),
        (413, b'{"detail": "Request body too large"}', TooLarge),
        (426, b'{"detail": "upgrade"}', UpgradeRequired),
        (429, b"{}", ServerBusy),
        (500, b"Internal Server Error", ServerBusy),
        (503, b"{}", ServerBusy),
    ],
)
async def test_each_status_becomes_its_typed_error(
    status: int, body: bytes, error: type[SyncError]
) -> None:
    async with SyncClient("https://sofs.test", transport=_answering(status, body)) as client:
        with pytest.raises(error):
            await client.info()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Welcome to the hotel Wi-Fi</body></html>", "text/html"),
        (b'{"protocol_versions": [1], "schema": {"min": 1', "application/json"),
        (b'{"protocol_versions": [1]}', "application/json"),
        (b'{"unexpected": "Mrs Smith said ..."}', "application/json"),
    ],
)
async def test_a_body_that_is_not_the_protocol_is_a_bad_response_that_echoes_nothing(
    body: bytes, content_type: str
) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"content-type": content_type})
    )
    async with SyncClient("https://sofs.test", transport=transport) as client:
        with pytest.raises(BadResponse) as refused:
            await client.info()
    assert "Smith" not in str(refused.value)


def _raising(exc: type[httpx.TransportError]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("injected", request=request)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("raised", "error", "maybe_sent"),
    [
        (httpx.ConnectError, Offline, False),
        (httpx.ConnectTimeout, Timeout, False),
        (httpx.ReadTimeout, Timeout, True),
        (httpx.WriteTimeout, Timeout, True),
        (httpx.ReadError, Offline, True),
        (httpx.RemoteProtocolError, Offline, True),
    ],
)
async def test_transport_failures_are_offline_and_say_whether_the_request_may_have_left(
    raised: type[httpx.TransportError], error: type[Offline], maybe_sent: bool
) -> None:
    async with SyncClient("https://sofs.test", transport=_raising(raised)) as client:
        with pytest.raises(error) as failed:
            await client.info()
    assert type(failed.value) is error and failed.value.maybe_sent is maybe_sent
    assert failed.value.retryable


async def test_a_503_carries_its_retry_after() -> None:
    transport = _answering(503, headers={"Retry-After": "120"})
    async with SyncClient("https://sofs.test", transport=transport) as client:
        with pytest.raises(ServerBusy) as busy:
            await client.info()
    assert busy.value.retry_after == 120


def test_retry_after_reads_seconds_and_dates_and_caps_them() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("999999") == client_module.MAX_RETRY_AFTER
    date_now = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    assert parse_retry_after("Wed, 25 Nov 2026 09:32:00 GMT", now=date_now) == 120
    assert parse_retry_after("Wed, 25 Nov 2026 09:00:00 GMT", now=date_now) == 0


async def test_an_http_date_retry_after_is_measured_from_the_services_own_date() -> None:
    headers = {
        "Retry-After": "Wed, 25 Nov 2026 09:31:00 GMT",
        "Date": "Wed, 25 Nov 2026 09:30:00 GMT",
    }
    async with SyncClient("https://sofs.test", transport=_answering(503, headers=headers)) as c:
        with pytest.raises(ServerBusy) as busy:
            await c.info()
    assert busy.value.retry_after == 60  # whatever this computer's clock says


async def test_device_registration_puts_only_the_device_id_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"device_id": DEVICE, "last_device_seq": 3}
        return httpx.Response(200, json=body)

    from sofs_tui.sync.protocol import DeviceRegistration

    registration = DeviceRegistration(label="laptop", app_version="0", schema_version=2)
    async with SyncClient("https://sofs.test", transport=httpx.MockTransport(handler)) as c:
        answer = await c.register_device("t", DEVICE, registration)
    assert answer.last_device_seq == 3
    assert seen[0].method == "PUT" and seen[0].url.path == f"/sync/v1/devices/{DEVICE}"
    assert json.loads(seen[0].content) == registration.model_dump()
