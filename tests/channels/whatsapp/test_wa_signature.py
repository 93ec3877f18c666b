"""X-Hub-Signature-256 verification over raw bytes and the GET subscription handshake."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from mostrador.channels.base import RequestVerificationError, SignatureInvalid, SignatureMissing
from mostrador.channels.whatsapp.signature import (
    SubscriptionRejected,
    hmac_sha256_hex,
    sign,
    verify_signature,
    verify_signature_headers,
    verify_subscription,
)

SECRET = "app-secret-123"


@pytest.fixture
def raw_body(load_fixture: Any) -> bytes:
    # Meta escapes non-ASCII ("\ud83d\ude2e"); the digest is over exactly these bytes.
    return json.dumps(load_fixture("webhook_reaction.json")).encode()


class TestSign:
    def test_known_vector(self) -> None:
        expected = hmac.new(b"key", b"The quick brown fox", hashlib.sha256).hexdigest()
        assert sign(b"The quick brown fox", "key") == f"sha256={expected}"

    def test_bytes_and_str_secret_agree(self, raw_body: bytes) -> None:
        assert sign(raw_body, SECRET) == sign(raw_body, SECRET.encode())


@pytest.mark.parametrize("key_length", [1, 16, 63, 64, 65, 200])  # shorter than, equal to, longer than a block
def test_prepared_hmac_matches_the_standard_library(key_length: int) -> None:
    key = bytes(range(256))[:key_length]
    body = b'{"object": "whatsapp_business_account", "entry": []}' * 7
    assert hmac_sha256_hex(key, body) == hmac.new(key, body, hashlib.sha256).hexdigest()


class TestVerify:
    def test_valid(self, raw_body: bytes) -> None:
        verify_signature(raw_body, sign(raw_body, SECRET), SECRET)

    def test_header_as_raw_bytes(self, raw_body: bytes) -> None:
        """The webhook lane hands over the ASGI header value as it came, in bytes."""
        header = sign(raw_body, SECRET)
        verify_signature(raw_body, header.encode(), SECRET)
        verify_signature(raw_body, header.upper().replace("SHA256=", "sha256=").encode(), SECRET)
        with pytest.raises(SignatureInvalid):
            verify_signature(raw_body, header.encode(), "another-secret")
        with pytest.raises(SignatureMissing):
            verify_signature(raw_body, b" ", SECRET)

    def test_uppercase_hex_and_whitespace_accepted(self, raw_body: bytes) -> None:
        header = sign(raw_body, SECRET)
        verify_signature(raw_body, "sha256=" + header.removeprefix("sha256=").upper() + " ", SECRET)

    @pytest.mark.parametrize("header", [None, "", "   "])
    def test_missing(self, raw_body: bytes, header: str | None) -> None:
        with pytest.raises(SignatureMissing) as exc:
            verify_signature(raw_body, header, SECRET)
        assert exc.value.http_status == 401

    @pytest.mark.parametrize(
        "header",
        ["sha256=00", "sha1=abc", "abc", "sha256=" + "0" * 64, "sha256=ñ" + "0" * 63],
    )
    def test_invalid(self, raw_body: bytes, header: str) -> None:
        with pytest.raises(SignatureInvalid) as exc:
            verify_signature(raw_body, header, SECRET)
        assert exc.value.http_status == 403
        assert isinstance(exc.value, RequestVerificationError)

    def test_wrong_secret(self, raw_body: bytes) -> None:
        with pytest.raises(SignatureInvalid):
            verify_signature(raw_body, sign(raw_body, "other"), SECRET)

    def test_tampered_body(self, raw_body: bytes) -> None:
        header = sign(raw_body, SECRET)
        with pytest.raises(SignatureInvalid):
            verify_signature(raw_body + b" ", header, SECRET)

    def test_reserialised_json_does_not_verify(self, raw_body: bytes) -> None:
        header = sign(raw_body, SECRET)
        reserialised = json.dumps(json.loads(raw_body), ensure_ascii=False).encode()
        assert reserialised != raw_body
        with pytest.raises(SignatureInvalid):
            verify_signature(reserialised, header, SECRET)

    def test_empty_secret_never_verifies(self, raw_body: bytes) -> None:
        with pytest.raises(SignatureInvalid):
            verify_signature(raw_body, sign(raw_body, ""), "")

    def test_header_lookup_is_case_insensitive(self, raw_body: bytes) -> None:
        verify_signature_headers({"x-hub-signature-256": sign(raw_body, SECRET)}, raw_body, SECRET)
        verify_signature_headers({"X-HUB-SIGNATURE-256": sign(raw_body, SECRET)}, raw_body, SECRET)
        with pytest.raises(SignatureMissing):
            verify_signature_headers({"x-hub-signature": "sha1=abc"}, raw_body, SECRET)

    def test_every_fixture_file_round_trips(self, wa_fixtures_dir: Path) -> None:
        paths = sorted(wa_fixtures_dir.glob("webhook_*.json"))
        assert paths
        for path in paths:
            body = path.read_bytes()
            verify_signature(body, sign(body, SECRET), SECRET)


class TestSubscription:
    def test_ok_returns_the_challenge(self) -> None:
        assert verify_subscription("subscribe", "tok", "1158201444", "tok") == "1158201444"

    @pytest.mark.parametrize(
        ("mode", "token", "challenge", "expected"),
        [
            ("subscribe", "wrong", "1", "tok"),
            ("unsubscribe", "tok", "1", "tok"),
            (None, "tok", "1", "tok"),
            ("subscribe", None, "1", "tok"),
            ("subscribe", "tok", None, "tok"),
            ("subscribe", "", "1", ""),
        ],
    )
    def test_rejected(self, mode: str | None, token: str | None, challenge: str | None, expected: str) -> None:
        with pytest.raises(SubscriptionRejected) as exc:
            verify_subscription(mode, token, challenge, expected)
        assert exc.value.http_status == 403
