"""Meta's error shapes: the synchronous Graph ``{"error": …}`` body and the webhook ``errors[]`` item."""

from __future__ import annotations

import secrets
from typing import Any

ERROR_DOCS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, default details)
ERROR_TITLES: dict[int, tuple[str, str]] = {
    1: ("API Unknown", "Invalid request or possible server error."),
    2: ("API Service", "Temporary due to downtime or due to being overloaded."),
    100: ("Invalid parameter", "The request included one or more unsupported or misspelled parameters."),
    190: ("Access token has expired", "Your access token has expired."),
    2500: ("Unknown path components", "An active access token must be used."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131008: ("Required parameter is missing", "The request is missing a required parameter."),
    131009: ("Parameter value is not valid", "One or more parameter values are invalid."),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp "
        "phone number; the recipient has not accepted the new Terms of Service; the recipient is using an "
        "old WhatsApp version.",
    ),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131048: (
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this "
        "phone number.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
        "WhatsApp from your business",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
        "WhatsApp from your business.",
    ),
    131051: ("Unsupported message type", "Message type is not currently supported."),
    131053: ("Media upload error", "Unable to upload the media used in the message."),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the "
        "same phone number in a short period of time.",
    ),
    132000: (
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values included in the request did not match the number of "
        "variable parameters defined in the template.",
    ),
    132001: ("Template name does not exist in the translation", "Template name does not exist in the translation"),
    132015: ("Template is Paused", "Template is paused due to low quality so it cannot be sent in a template message."),
    132016: (
        "Template is Disabled",
        "Template has been paused too many times due to low quality and is now permanently disabled.",
    ),
}


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")[:22]


def title_of(code: int) -> str:
    return ERROR_TITLES.get(code, ("Something went wrong", ""))[0]


def details_of(code: int) -> str:
    return ERROR_TITLES.get(code, ("", "Something went wrong"))[1]


class GraphError(Exception):
    """A synchronous Graph API error; rendered as Meta's ``{"error": …}`` body."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        http_status: int | None = None,
        message: str | None = None,
        error_subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        with_error_data: bool = True,
    ) -> None:
        self.code = code
        self.details = details if details is not None else details_of(code)
        self.http_status = http_status if http_status is not None else (401 if code == 190 else 400)
        self.message = message if message is not None else f"(#{code}) {title_of(code)}"
        self.error_subcode = error_subcode
        self.user_title = user_title
        self.user_msg = user_msg
        self.with_error_data = with_error_data
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.with_error_data:
            err["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.error_subcode is not None:
            err["error_subcode"] = self.error_subcode
        if self.user_title is not None:
            err["is_transient"] = False
            err["error_user_title"] = self.user_title
            err["error_user_msg"] = self.user_msg or self.user_title
        err["fbtrace_id"] = fbtrace_id()
        return {"error": err}


def invalid_token() -> GraphError:
    return GraphError(
        190,
        message="Invalid OAuth access token - Cannot parse access token",
        with_error_data=False,
    )


def missing_token() -> GraphError:
    return GraphError(
        2500,
        message="An active access token must be used to query information about the current user.",
        with_error_data=False,
    )


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    return GraphError(
        100,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation. Please read the Graph API "
            "documentation at https://developers.facebook.com/docs/graph-api"
        ),
        error_subcode=33,
        with_error_data=False,
    )


def required(param: str) -> GraphError:
    return GraphError(100, f"The parameter {param} is required.", message=f"(#100) The parameter {param} is required.")


def invalid_param(details: str) -> GraphError:
    return GraphError(100, details, message="(#100) Invalid parameter")


def invalid_value(details: str) -> GraphError:
    return GraphError(131009, details)


def webhook_error(code: int, details: str | None = None) -> dict[str, Any]:
    """An ``errors[]`` item as found in failed statuses (see fixtures/error_131047_reengagement_object.json)."""
    title = title_of(code)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details if details is not None else details_of(code)},
        "href": ERROR_DOCS_HREF,
    }
