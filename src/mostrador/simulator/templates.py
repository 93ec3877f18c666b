"""Message templates: creation rules (CONTRACT §4), send-time parameter checks, hydration and review."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .config import ReviewRule
from .errors import GraphError
from .state import Template

JSON = dict[str, Any]

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,3})?$")
_VAR_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_NAMED_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_URL_RE = re.compile(r"^https?://\S+$")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "MPM", "CATALOG", "SPM", "VOICE_CALL")

HELLO_WORLD_COMPONENTS: list[JSON] = [
    {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
    {
        "type": "BODY",
        "text": "Welcome and congratulations!! This message demonstrates your ability to send a "
        "WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for "
        "taking the time to test with us.",
    },
    {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
]


def _create_error(details: str, *, subcode: int | None = None, title: str = "Invalid parameter") -> GraphError:
    return GraphError(
        100, details, message="Invalid parameter", error_subcode=subcode, user_title=title, user_msg=details
    )


def variables(text: str) -> list[str]:
    return _VAR_RE.findall(text)


def _check_var_layout(text: str, where: str, *, named: bool) -> list[str]:
    names = variables(text)
    if not names:
        return names
    stripped = text.strip()
    if _VAR_RE.match(stripped) or re.search(r"\{\{\s*[A-Za-z0-9_]+\s*\}\}[\s.!?]*$", stripped):
        raise _create_error(
            f"{where}: variables can't be at the start or end of the template.",
            subcode=2388299,
            title="Variables can't be at the start or end of the template",
        )
    if re.search(r"\}\}\s*\{\{", text):
        raise _create_error(
            f"{where}: variables can't be next to each other.",
            subcode=2388293,
            title="Too many variables for the template length",
        )
    words = len(_VAR_RE.sub(" ", text).split())
    if words < 2 * len(names):
        raise _create_error(
            f"{where}: this template contains too many variable parameters relative to the message length.",
            subcode=2388293,
            title="Too many variables for the template length",
        )
    if named:
        for n in names:
            if not _NAMED_RE.match(n):
                raise _create_error(
                    f"{where}: named parameters must be lowercase letters and underscores.", subcode=2388047
                )
    else:
        if any(not n.isdigit() for n in names) or sorted({int(n) for n in names}) != list(
            range(1, len(set(names)) + 1)
        ):
            raise _create_error(
                f"{where}: variable parameters must be sequential ({{{{1}}}}, {{{{2}}}}, …).", subcode=2388047
            )
    return names


def validate_create(body: Any) -> JSON:
    """Validate a ``POST /{waba-id}/message_templates`` body; returns the normalised template fields."""
    if not isinstance(body, dict):
        raise _create_error("The request body must be a JSON object.")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise GraphError(100, "The parameter name is required.", message="(#100) The parameter name is required")
    if not _NAME_RE.match(name):
        raise _create_error(
            "Template name can only contain lowercase characters, numbers and underscores.",
            title="Invalid template name",
        )
    language = body.get("language")
    if not isinstance(language, str) or not _LANG_RE.match(language):
        raise _create_error("Param language must be a valid language code, e.g. en_US or es.")
    category = body.get("category")
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise _create_error("Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}.")
    category = category.upper()
    fmt = str(body.get("parameter_format", "POSITIONAL")).upper()
    if fmt not in ("POSITIONAL", "NAMED"):
        raise _create_error("Param parameter_format must be one of {POSITIONAL, NAMED}.")
    named = fmt == "NAMED"
    comps = body.get("components")
    if not isinstance(comps, list) or not comps:
        raise GraphError(
            100, "The parameter components is required.", message="(#100) The parameter components is required"
        )
    seen: set[str] = set()
    for comp in comps:
        if not isinstance(comp, dict):
            raise _create_error("Each component must be a JSON object.")
        ctype = str(comp.get("type", "")).upper()
        if ctype not in ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"):
            raise _create_error(f"Invalid component type: {comp.get('type')}")
        if ctype in seen:
            raise _create_error(f"Only one {ctype} component is allowed.")
        seen.add(ctype)
        if ctype == "HEADER":
            _validate_header(comp, named)
        elif ctype == "BODY":
            _validate_body(comp, category, named)
        elif ctype == "FOOTER":
            _validate_footer(comp, category)
        elif ctype == "BUTTONS":
            _validate_buttons(comp, category)
    if "BODY" not in seen:
        raise _create_error(
            "A template must have a BODY component.", subcode=2388047, title="Message template body is required"
        )
    return {"name": name, "language": language, "category": category, "parameter_format": fmt, "components": comps}


def _validate_header(comp: JSON, named: bool) -> None:
    fmt = str(comp.get("format", "")).upper()
    if fmt == "TEXT":
        text = comp.get("text")
        if not isinstance(text, str) or not text:
            raise _create_error("HEADER text is required.", subcode=2388047)
        if len(text) > 60:
            raise _create_error(
                "HEADER text must be at most 60 characters.", subcode=2388040, title="Field is too long"
            )
        names = variables(text)
        if len(names) > 1:
            raise _create_error(
                "HEADER text can have at most one variable.",
                subcode=2388047,
                title="Message template header format is invalid",
            )
        if names:
            example = comp.get("example") or {}
            if not (example.get("header_text") or example.get("header_text_named_params")):
                raise _create_error("HEADER with a variable needs example.header_text.", subcode=2388047)
    elif fmt in ("IMAGE", "VIDEO", "DOCUMENT"):
        example = comp.get("example") or {}
        handles = example.get("header_handle")
        if not isinstance(handles, list) or not handles:
            raise _create_error(f"{fmt} HEADER needs example.header_handle.", subcode=2388047)
    elif fmt != "LOCATION":
        raise _create_error("HEADER format must be one of {TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION}.")


def _validate_body(comp: JSON, category: str, named: bool) -> None:
    text = comp.get("text")
    if category == "AUTHENTICATION" and text is None:
        return
    if not isinstance(text, str) or not text.strip():
        raise _create_error("BODY text is required.", subcode=2388047, title="Message template body is required")
    if len(text) > 1024:
        raise _create_error("BODY text must be at most 1024 characters.", subcode=2388040, title="Field is too long")
    names = _check_var_layout(text, "BODY", named=named)
    if names:
        example = comp.get("example") or {}
        if named:
            given = {p.get("param_name") for p in example.get("body_text_named_params", []) if isinstance(p, dict)}
            if not set(names) <= given:
                raise _create_error(
                    "BODY needs example.body_text_named_params for every named parameter.", subcode=2388047
                )
        else:
            rows = example.get("body_text")
            if (
                not isinstance(rows, list)
                or not rows
                or not isinstance(rows[0], list)
                or len(rows[0]) != len(set(names))
            ):
                raise _create_error("BODY needs example.body_text with one value per variable.", subcode=2388047)


def _validate_footer(comp: JSON, category: str) -> None:
    text = comp.get("text")
    if category == "AUTHENTICATION" and text is None:
        return
    if not isinstance(text, str) or not text:
        raise _create_error("FOOTER text is required.", subcode=2388073)
    if len(text) > 60:
        raise _create_error("FOOTER text must be at most 60 characters.", subcode=2388040, title="Field is too long")
    if variables(text):
        raise _create_error(
            "FOOTER can't contain variables.", subcode=2388073, title="Message template footer format is invalid"
        )


def _validate_buttons(comp: JSON, category: str) -> None:
    buttons = comp.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise _create_error("BUTTONS needs at least one button.")
    if len(buttons) > 10:
        raise _create_error("A template can have at most 10 buttons.")
    counts: dict[str, int] = {}
    kinds: list[str] = []
    for b in buttons:
        if not isinstance(b, dict):
            raise _create_error("Each button must be a JSON object.")
        btype = str(b.get("type", "")).upper()
        if btype not in BUTTON_TYPES:
            raise _create_error(f"Invalid button type: {b.get('type')}")
        counts[btype] = counts.get(btype, 0) + 1
        kinds.append(btype)
        text = b.get("text")
        if btype in ("QUICK_REPLY", "URL", "PHONE_NUMBER"):
            if not isinstance(text, str) or not text:
                raise _create_error(f"{btype} button text is required.")
            if len(text) > 25:
                raise _create_error(
                    f"{btype} button text must be at most 25 characters.", subcode=2388040, title="Field is too long"
                )
        if btype == "URL":
            url = b.get("url")
            if not isinstance(url, str) or not _URL_RE.match(url) or len(url) > 2000:
                raise _create_error("URL button needs a valid http(s) url of at most 2000 characters.")
            url_vars = variables(url)
            if len(url_vars) > 1 or (url_vars and not url.rstrip().endswith("}}")):
                raise _create_error("URL button can have one variable, at the end of the url.", subcode=2388047)
        if btype == "PHONE_NUMBER":
            phone = b.get("phone_number")
            if not isinstance(phone, str) or not phone or len(phone) > 20:
                raise _create_error("PHONE_NUMBER button needs a phone_number of at most 20 characters.")
        if btype == "COPY_CODE":
            example = b.get("example")
            if not isinstance(example, str) or not example or len(example) > 15:
                raise _create_error("COPY_CODE button needs an example of at most 15 characters.")
        if btype == "OTP" and category != "AUTHENTICATION":
            raise _create_error("OTP buttons are only allowed in AUTHENTICATION templates.")
    if counts.get("URL", 0) > 2 or counts.get("PHONE_NUMBER", 0) > 1 or counts.get("COPY_CODE", 0) > 1:
        raise _create_error("Too many buttons of one type (URL ≤ 2, PHONE_NUMBER ≤ 1, COPY_CODE ≤ 1).")
    qr = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if qr and qr[-1] - qr[0] + 1 != len(qr):
        raise _create_error("Quick reply buttons must be grouped together.", title="Invalid button order")
    if category == "AUTHENTICATION" and "OTP" not in kinds:
        raise _create_error("AUTHENTICATION templates need an OTP button.")


def authentication_components(comps: list[JSON]) -> list[JSON]:
    """Meta fills in the fixed text of authentication templates."""
    out: list[JSON] = []
    for comp in comps:
        ctype = str(comp.get("type", "")).upper()
        c = dict(comp)
        if ctype == "BODY" and "text" not in c:
            text = "*{{1}}* is your verification code."
            if c.get("add_security_recommendation"):
                text += " For your security, do not share this code."
            c["text"] = text
        if ctype == "FOOTER" and "text" not in c and c.get("code_expiration_minutes"):
            c["text"] = f"This code expires in {c['code_expiration_minutes']} minutes."
        out.append(c)
    return out


# --------------------------------------------------------------------------- send-time checks


@dataclass
class Expected:
    header_kind: str | None = None  # text/image/video/document/location
    header_vars: int = 0
    body_vars: list[str] = field(default_factory=list)
    required_buttons: dict[int, str] = field(default_factory=dict)  # index -> sub_type


def _component(template: Template, ctype: str) -> JSON | None:
    for c in template.components:
        if str(c.get("type", "")).upper() == ctype:
            return c
    return None


def expected_params(template: Template) -> Expected:
    exp = Expected()
    header = _component(template, "HEADER")
    if header is not None:
        fmt = str(header.get("format", "")).upper()
        if fmt == "TEXT":
            n = len(variables(str(header.get("text", ""))))
            if n:
                exp.header_kind, exp.header_vars = "text", n
        else:
            exp.header_kind, exp.header_vars = fmt.lower(), 1
    body = _component(template, "BODY")
    if body is not None:
        names = variables(str(body.get("text", "")))
        exp.body_vars = list(dict.fromkeys(names))
    buttons = _component(template, "BUTTONS")
    if buttons is not None:
        for i, b in enumerate(buttons.get("buttons", [])):
            btype = str(b.get("type", "")).upper()
            if btype == "URL" and variables(str(b.get("url", ""))):
                exp.required_buttons[i] = "url"
            elif btype == "COPY_CODE":
                exp.required_buttons[i] = "copy_code"
    return exp


def _mismatch(where: str, got: int, expected: int) -> GraphError:
    return GraphError(
        132000,
        f"{where}: number of localizable_params ({got}) does not match the expected number of params ({expected})",
    )


def check_send_params(template: Template, send: JSON) -> None:
    """Raise 132000 when the parameters of a template send don't match the template."""
    exp = expected_params(template)
    comps = [c for c in send.get("components", []) if isinstance(c, dict)]
    header = [c for c in comps if str(c.get("type", "")).lower() == "header"]
    body = [c for c in comps if str(c.get("type", "")).lower() == "body"]
    header_params = header[0].get("parameters", []) if header else []
    body_params = body[0].get("parameters", []) if body else []
    if len(header_params) != exp.header_vars:
        raise _mismatch("header", len(header_params), exp.header_vars)
    if exp.header_kind and exp.header_kind != "text" and header_params:
        ptype = header_params[0].get("type")
        if ptype != exp.header_kind:
            raise GraphError(
                132012,
                f"header: parameter type {ptype} does not match the expected format {exp.header_kind.upper()}",
                message="(#132012) Parameter format does not match format in the created template",
            )
    if len(body_params) != len(exp.body_vars):
        raise _mismatch("body", len(body_params), len(exp.body_vars))
    if template.parameter_format == "NAMED":
        given = {p.get("parameter_name") for p in body_params if isinstance(p, dict)}
        missing = [n for n in exp.body_vars if n not in given]
        if missing:
            raise GraphError(132000, f"body: parameter name(s) {', '.join(missing)} missing from the request")
    buttons: dict[int, JSON] = {}
    for c in comps:
        if str(c.get("type", "")).lower() == "button":
            try:
                buttons[int(c.get("index", -1))] = c
            except (TypeError, ValueError):
                raise GraphError(131009, "button: index must be a number between 0 and 9") from None
    for index, sub_type in exp.required_buttons.items():
        comp = buttons.get(index)
        if comp is None or not comp.get("parameters"):
            raise _mismatch(f"button at index {index} ({sub_type})", 0, 1)


def _param_text(p: Any) -> str:
    if not isinstance(p, dict):
        return ""
    ptype = p.get("type")
    if ptype == "text":
        return str(p.get("text", ""))
    if ptype in ("currency", "date_time"):
        return str((p.get(ptype) or {}).get("fallback_value", ""))
    if ptype == "payload":
        return str(p.get("payload", ""))
    if ptype == "coupon_code":
        return str(p.get("coupon_code", ""))
    return f"[{ptype}]"


def hydrate(text: str, params: list[Any], *, named: bool) -> str:
    if named:
        by_name = {p.get("parameter_name"): _param_text(p) for p in params if isinstance(p, dict)}
        return _VAR_RE.sub(lambda m: by_name.get(m.group(1), m.group(0)), text)
    values = [_param_text(p) for p in params]

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.isdigit() and 0 < int(key) <= len(values):
            return values[int(key) - 1]
        return m.group(0)

    return _VAR_RE.sub(sub, text)


def render(template: Template, send: JSON) -> JSON:
    """What the customer's phone shows for a template send."""
    named = template.parameter_format == "NAMED"
    comps = [c for c in send.get("components", []) if isinstance(c, dict)]
    params_of = {
        str(c.get("type", "")).lower(): c.get("parameters", [])
        for c in comps
        if str(c.get("type", "")).lower() in ("header", "body")
    }
    out: JSON = {"kind": "template", "name": template.name, "language": template.language}
    header = _component(template, "HEADER")
    if header is not None:
        fmt = str(header.get("format", "")).upper()
        if fmt == "TEXT":
            out["header"] = {
                "type": "text",
                "text": hydrate(str(header.get("text", "")), params_of.get("header", []), named=named),
            }
        else:
            out["header"] = {"type": fmt.lower(), **_header_media(params_of.get("header", []), fmt.lower())}
    body = _component(template, "BODY")
    if body is not None:
        out["body"] = hydrate(str(body.get("text", "")), params_of.get("body", []), named=named)
    footer = _component(template, "FOOTER")
    if footer is not None and footer.get("text"):
        out["footer"] = str(footer["text"])
    buttons_comp = _component(template, "BUTTONS")
    payloads: dict[int, str] = {}
    values: dict[int, str] = {}  # URL suffixes and coupon codes
    for c in comps:
        if str(c.get("type", "")).lower() != "button":
            continue
        params = c.get("parameters") or []
        try:
            index = int(c.get("index", -1))
        except (TypeError, ValueError):
            continue
        if str(c.get("sub_type", "")).lower() == "quick_reply":
            payloads[index] = _param_text(params[0]) if params else ""
        elif params:
            values[index] = _param_text(params[0])
    if buttons_comp is not None:
        rendered = []
        for i, b in enumerate(buttons_comp.get("buttons", [])):
            btype = str(b.get("type", "")).upper()
            text = str(b.get("text") or ("Copiar código" if btype in ("COPY_CODE", "OTP") else btype.title()))
            item: JSON = {"type": btype.lower(), "text": text, "index": i}
            if btype == "QUICK_REPLY":
                item["payload"] = payloads.get(i) or text
            if btype == "URL":
                url = str(b.get("url") or "")
                slot = _VAR_RE.search(url)
                item["url"] = url[: slot.start()] + values[i] + url[slot.end() :] if slot and i in values else url
            if btype == "COPY_CODE" and i in values:
                item["code"] = values[i]
            rendered.append(item)
        out["buttons"] = rendered
    return out


def _header_media(params: list[Any], kind: str) -> JSON:
    """The media id or link of an image/video/document header parameter (what the phone shows)."""
    first = params[0] if params and isinstance(params[0], dict) else {}
    raw = first.get(kind)
    media: JSON = raw if isinstance(raw, dict) else {}
    out: JSON = {}
    for key, name in (("id", "media_id"), ("link", "link"), ("filename", "filename")):
        if isinstance(media.get(key), str):
            out[name] = media[key]
    return out


def review(template: Template, rules: list[ReviewRule]) -> tuple[str, str, JSON | None]:
    """Apply the review rules: returns (event, reason, rejection_info)."""
    body_texts = " ".join(str(c.get("text", "")) for c in template.components if isinstance(c, dict))
    for rule in rules:
        targets = {"name": template.name, "body": body_texts, "any": f"{template.name} {body_texts}"}[rule.field]
        try:
            matched = re.search(rule.pattern, targets) is not None
        except re.error:
            continue
        if matched:
            return (
                "REJECTED",
                rule.reason,
                {
                    "reason": f"The template matched the review rule {rule.pattern!r}.",
                    "recommendation": rule.recommendation,
                },
            )
    return "APPROVED", "NONE", None
