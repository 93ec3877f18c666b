"""Graph error → ChannelRetriableError / ChannelPermanentError mapping and agent-facing reasons."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mostrador.channels.base import (
    ChannelError,
    ChannelPermanentError,
    ChannelRetriableError,
    ErrorCategory,
    ProviderError,
    Throttle,
)
from mostrador.channels.whatsapp.errors import (
    _SPECS,
    CODE_CONNECTION,
    CODE_HTTP,
    CODE_TIMEOUT,
    error_from_exception,
    error_from_response,
    is_retriable_code,
    map_error,
)
from mostrador.channels.whatsapp.parse import parse_error_object

RETRIABLE = [130429, 131056, 80007, 4, 1, 2, 131016, 131057, 131000, 131048, 133016, 132069]
PERMANENT = [
    0, 3, 10, 33, 100, 190, 368, 130472, 130497, 131005, 131006, 131008, 131009, 131021, 131026, 131030,
    131031, 131037, 131042, 131045, 131047, 131049, 131050, 131051, 131052, 131053, 131062, 131063,
    131064, 132000, 132001, 132005, 132007, 132008, 132012, 132015, 132016, 132068, 135000, 137000,
    2388019, 2388040, 2388047, 2388073, 2388293, 2388299,
]  # fmt: skip


def graph_error(code: int, **extra: Any) -> dict[str, Any]:
    return {"message": f"(#{code}) Something", "type": "OAuthException", "code": code, **extra}


class TestClassification:
    @pytest.mark.parametrize("code", RETRIABLE)
    def test_retriable(self, code: int) -> None:
        err = map_error(graph_error(code), http_status=400)
        assert isinstance(err, ChannelRetriableError)
        assert err.retriable is True
        assert err.defer_seconds > 0
        assert is_retriable_code(code)

    @pytest.mark.parametrize("code", PERMANENT)
    def test_permanent(self, code: int) -> None:
        err = map_error(graph_error(code), http_status=400)
        assert isinstance(err, ChannelPermanentError)
        assert not is_retriable_code(code)

    def test_every_contract_code_is_classified_explicitly(self) -> None:
        assert set(RETRIABLE) | set(PERMANENT) == set(_SPECS)

    @pytest.mark.parametrize("code", [200, 250, 299])
    def test_permission_range(self, code: int) -> None:
        err = map_error(graph_error(code))
        assert isinstance(err, ChannelPermanentError)
        assert err.category is ErrorCategory.AUTH

    def test_unknown_code_on_4xx_is_permanent_with_family_category(self) -> None:
        err = map_error(graph_error(132999), http_status=400)
        assert isinstance(err, ChannelPermanentError)
        assert err.category is ErrorCategory.TEMPLATE
        assert "132999" in err.human_reason("en")

    def test_unknown_code_on_5xx_is_retriable(self) -> None:
        assert isinstance(map_error(graph_error(999999), http_status=503), ChannelRetriableError)

    def test_known_permanent_code_stays_permanent_on_5xx(self) -> None:
        assert isinstance(map_error(graph_error(131026), http_status=500), ChannelPermanentError)


class TestSpecialCases:
    def test_131047_asks_for_a_template(self, load_fixture: Any) -> None:
        err = map_error(load_fixture("error_131047_reengagement_object.json"))
        assert isinstance(err, ChannelPermanentError)
        assert err.requires_template is True
        assert err.title == "Re-engagement message"
        assert err.details is not None and "24 hours" in err.details
        assert "plantilla" in err.human_reason("es")
        assert "template" in err.human_reason("en")
        assert "modelo" in err.human_reason("pt")

    def test_131049_do_not_retry_soon(self) -> None:
        err = map_error(graph_error(131049))
        assert isinstance(err, ChannelPermanentError)
        assert err.retry_after_seconds == 86400
        assert not err.requires_template

    def test_131056_pair_rate_defers_at_least_six_seconds(self) -> None:
        err = map_error(graph_error(131056))
        assert isinstance(err, ChannelRetriableError)
        assert err.defer_seconds >= 6
        assert err.category is ErrorCategory.THROTTLE

    def test_131053_fixture(self, load_fixture: Any) -> None:
        err = map_error(load_fixture("error_131053_media_upload_object.json"))
        assert isinstance(err, ChannelPermanentError)
        assert err.details is not None and "429" in err.details

    def test_190_fixture(self, load_fixture: Any) -> None:
        err = map_error(load_fixture("error_190_expired_token_object.json"), http_status=401)
        assert isinstance(err, ChannelPermanentError)
        assert (err.code, err.subcode, err.category, err.fbtrace_id) == (
            190,
            463,
            ErrorCategory.AUTH,
            "ACEyrTehk6IAd0lm05Ixogh",
        )
        assert err.title.startswith("Error validating access token")

    def test_full_response_body_and_provider_error_are_accepted(self, load_fixture: Any) -> None:
        body = load_fixture("error_132000_response.json")
        from_body = map_error(body)
        assert from_body.code == 132000
        assert from_body.title == "Number of parameters does not match the expected number of params"
        status_error = parse_error_object(load_fixture("error_131047_reengagement_object.json"))
        assert isinstance(status_error, ProviderError)
        from_status = map_error(status_error)
        assert isinstance(from_status, ChannelPermanentError) and from_status.requires_template

    def test_missing_code_falls_back_to_http_status(self) -> None:
        assert isinstance(map_error({"message": "boom"}, http_status=500), ChannelRetriableError)
        assert isinstance(map_error({"message": "boom"}, http_status=400), ChannelPermanentError)

    def test_string_code_is_read(self) -> None:
        assert map_error({"code": "130429"}).code == 130429


class TestHttpAndTransport:
    def test_non_json_5xx(self) -> None:
        err = error_from_response(500, b"oops")
        assert isinstance(err, ChannelRetriableError)
        assert (err.code, err.http_status, err.details) == (CODE_HTTP, 500, "oops")

    def test_429_without_graph_body(self) -> None:
        err = error_from_response(429, b"")
        assert isinstance(err, ChannelRetriableError)
        assert err.category is ErrorCategory.THROTTLE

    @pytest.mark.parametrize("status", [401, 403])
    def test_auth_status_without_body(self, status: int) -> None:
        err = error_from_response(status, b"{}")
        assert isinstance(err, ChannelPermanentError)
        assert err.category is ErrorCategory.AUTH

    def test_graph_body_wins_over_status(self, load_fixture: Any) -> None:
        import json

        err = error_from_response(400, json.dumps(load_fixture("error_132000_response.json")).encode())
        assert err.code == 132000

    @pytest.mark.parametrize(
        ("exc", "code"),
        [
            (httpx.ConnectTimeout("t"), CODE_TIMEOUT),
            (httpx.ReadTimeout("t"), CODE_TIMEOUT),
            (httpx.PoolTimeout("t"), CODE_TIMEOUT),
            (httpx.ConnectError("c"), CODE_CONNECTION),
            (httpx.RemoteProtocolError("p"), CODE_CONNECTION),
        ],
    )
    def test_transport_errors_are_retriable(self, exc: httpx.HTTPError, code: int) -> None:
        err = error_from_exception(exc)
        assert isinstance(err, ChannelRetriableError)
        assert err.code == code
        assert err.category is ErrorCategory.TRANSPORT


def backoff(error: ChannelError, retries: int) -> float | None:
    return error.retry_in(retries) if isinstance(error, ChannelRetriableError) else None


class TestBackoff:
    def test_exponential_and_capped(self) -> None:
        delays = [backoff(map_error(graph_error(130429)), n) for n in range(8)]
        assert delays[:4] == [2.0, 4.0, 8.0, 16.0]
        assert max(d for d in delays if d is not None) == 60.0

    def test_pair_rate_starts_at_six_seconds(self) -> None:
        assert backoff(map_error(graph_error(131056)), 0) == 6.0
        assert backoff(map_error(graph_error(131056)), 1) == 12.0

    def test_waba_limit_is_slow(self) -> None:
        first = backoff(map_error(graph_error(80007)), 0)
        assert first is not None and first >= 60

    def test_permanent_has_no_backoff(self) -> None:
        assert backoff(map_error(graph_error(131047)), 0) is None
        assert backoff(map_error(graph_error(131049)), 3) is None

    def test_transport_and_http(self) -> None:
        assert backoff(error_from_exception(httpx.ReadTimeout("slow")), 0) == 2.0
        assert backoff(error_from_response(429, b"slow down"), 0) == 10.0
        assert backoff(error_from_response(503, b"down"), 0) == 5.0
        assert backoff(error_from_response(404, b"gone"), 0) is None

    @pytest.mark.parametrize(
        ("code", "throttle"),
        [(130429, Throttle.SENDER), (80007, Throttle.SENDER), (4, Throttle.SENDER), (131056, Throttle.RECIPIENT)],
    )
    def test_throttles_say_which_limit(self, code: int, throttle: Throttle) -> None:
        error = map_error(graph_error(code))
        assert isinstance(error, ChannelRetriableError) and error.throttle is throttle

    def test_other_retriable_errors_are_not_throttles(self) -> None:
        for error in (map_error(graph_error(131000)), error_from_response(503, b"down")):
            assert isinstance(error, ChannelRetriableError) and error.throttle is None


class TestHumanReasons:
    @pytest.mark.parametrize("code", RETRIABLE + PERMANENT)
    def test_three_languages(self, code: int) -> None:
        err = map_error(graph_error(code))
        es, en, pt = (err.human_reason(loc) for loc in ("es", "en", "pt"))
        assert es and en and pt
        assert len({es, en, pt}) == 3
        assert all(len(text) <= 160 for text in (es, en, pt))

    def test_locale_variants(self) -> None:
        err = map_error(graph_error(131026))
        assert err.human_reason("es-AR") == err.human_reason("es")
        assert err.human_reason("pt_BR") == err.human_reason("pt")
        assert err.human_reason("fr") == err.human_reason("en")
        assert err.human_reason("") == err.human_reason("en")

    def test_base_classes_have_generic_reasons(self) -> None:
        bare: list[ChannelError] = [
            ChannelRetriableError(7, "x"),
            ChannelPermanentError(7, "x"),
            ChannelError(7, "x"),
        ]
        for err in bare:
            for loc in ("es", "en", "pt"):
                assert "7" in err.human_reason(loc)
        assert "reintentará" in bare[0].human_reason("es")
        assert "no se reintentará" in bare[1].human_reason("es")
