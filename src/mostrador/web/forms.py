"""Form handling for the UI: read fields, validate with the domain's Pydantic schemas, explain errors in the
agent's language (never a 500 or a JSON 422 for a bad form)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from mostrador.exceptions import MostradorError
from mostrador.web.i18n import N_, gettext

M = TypeVar("M", bound=BaseModel)

FormErrors = dict[str, str]


async def read_form(request: Request) -> dict[str, str]:
    """Text fields only (the CSRF field is dropped); the same name twice keeps the last value."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def _message(error: Any) -> str:
    kind: str = error.get("type", "")
    ctx: dict[str, Any] = error.get("ctx") or {}
    if kind in ("missing", "string_too_short") and ctx.get("min_length", 1) <= 1:
        return gettext("This field is required.")
    if kind == "string_too_short":
        return gettext("Too short: at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind == "string_too_long":
        return gettext("Too long: at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return gettext("Enter a whole number.")
    if kind in ("greater_than_equal", "greater_than"):
        return gettext("Must be at least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return gettext("Must be at most %(max)s.") % {"max": ctx.get("le", ctx.get("lt"))}
    if kind == "enum":
        return gettext("Choose one of the options.")
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return gettext("Enter a valid e-mail address.")
    if kind == "string_pattern_mismatch":
        return gettext("The format is not valid.")
    return gettext("This value is not valid.")


def validation_errors(error: ValidationError) -> FormErrors:
    """Field name → one translated message (the first error of each field)."""
    errors: FormErrors = {}
    for item in error.errors():
        location = item.get("loc", ())
        name = str(location[0]) if location else "__all__"
        errors.setdefault(name, _message(item))
    return errors


def parse(model: type[M], data: dict[str, Any]) -> tuple[M | None, FormErrors]:
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, validation_errors(error)


# Domain error codes → what the agent reads. Unknown codes fall back to a generic sentence.
_DOMAIN_MESSAGES: dict[str, str] = {
    "email_taken": N_("There is already a user with this e-mail."),
    "team_exists": N_("There is already a team with this name."),
    "label_exists": N_("There is already a label with this name."),
    "short_code_taken": N_("There is already a canned response with this short code."),
    "inbox_exists": N_("This WhatsApp number is already connected to an inbox."),
    "last_admin": N_("The account needs at least one active admin."),
    "cannot_deactivate_self": N_("You cannot deactivate yourself."),
    "password_too_short": N_("The password needs at least 8 characters."),
}


def domain_message(error: MostradorError) -> str:
    message = _DOMAIN_MESSAGES.get(error.code)
    return gettext(message) if message else gettext("That could not be saved. Check the data and try again.")
