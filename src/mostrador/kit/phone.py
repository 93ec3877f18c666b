"""Phone numbers: E.164 for display and search; WhatsApp ids (``wa_id``) stay as WhatsApp sends them."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, default_region: str | None = None) -> str:
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("phone number is empty")
    if not text.startswith("+") and default_region is None:
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(f"not a phone number: {raw!r}") from error
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def wa_id_to_e164(wa_id: str) -> str | None:
    """Best effort: legacy Mexican ``521…`` ids are not valid E.164 today, so keep the digits as they are."""
    digits = "".join(ch for ch in wa_id if ch.isdigit())
    if not digits:
        return None
    try:
        return to_e164("+" + digits)
    except InvalidPhoneNumber:
        return "+" + digits


def wa_id_from_input(raw: str) -> str:
    """What WhatsApp calls ``wa_id``: the international number as digits, no ``+``."""
    return to_e164(raw).lstrip("+")
