"""Graph / Cloud API error → ``ChannelRetriableError`` | ``ChannelPermanentError`` with es/en/pt reasons.

Decisions are made on ``error.code`` (plus HTTP status only when there is no Graph error body),
never on the title text. Codes and groupings follow CONTRACT.md §5.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mostrador.channels.base import (
    ChannelError,
    ChannelPermanentError,
    ChannelRetriableError,
    ErrorCategory,
    ProviderError,
    Throttle,
)

__all__ = [
    "CODE_CONNECTION",
    "CODE_HTTP",
    "CODE_INVALID_RESPONSE",
    "CODE_LOCAL_VALIDATION",
    "CODE_TIMEOUT",
    "error_from_exception",
    "error_from_response",
    "invalid_response_error",
    "is_retriable_code",
    "map_error",
    "validation_error",
]

# Local (non-Graph) codes. Negative so they never collide with Meta codes.
CODE_TIMEOUT = -1
CODE_CONNECTION = -2
CODE_HTTP = -3  # HTTP error without a Graph error body
CODE_INVALID_RESPONSE = -4  # 2xx with an unusable body
CODE_LOCAL_VALIDATION = 100  # same meaning as Graph's "invalid parameter", flagged ``local=True``

Reasons = tuple[str, str, str]  # es, en, pt


@dataclass(frozen=True)
class _Spec:
    category: ErrorCategory
    reasons: Reasons
    retriable: bool = False
    base_delay: float = 5.0  # first retry delay (retriable)
    max_delay: float = 300.0
    throttle: Throttle | None = None  # which of Meta's limits a throttling code reports
    retry_after: int | None = None  # permanent: earliest sensible manual retry
    requires_template: bool = False


def _r(category: ErrorCategory, es: str, en: str, pt: str, **kw: Any) -> _Spec:
    return _Spec(category=category, reasons=(es, en, pt), **kw)


A, T, I, S, R, SE, TP, TM = (  # noqa: E741
    ErrorCategory.AUTH,
    ErrorCategory.THROTTLE,
    ErrorCategory.INTEGRITY,
    ErrorCategory.SERVER,
    ErrorCategory.REQUEST,
    ErrorCategory.SEND,
    ErrorCategory.TEMPLATE,
    ErrorCategory.TEMPLATE_MANAGEMENT,
)

_AUTH = _r(
    A,
    "La conexión con WhatsApp no está autorizada: revise el token de acceso del número.",
    "WhatsApp rejected our credentials: check the number's access token.",
    "O WhatsApp rejeitou as credenciais: verifique o token de acesso do número.",
)
_PERMISSION = _r(
    A,
    "La aplicación no tiene permiso para esta operación en WhatsApp.",
    "The app lacks the WhatsApp permission needed for this operation.",
    "O aplicativo não tem a permissão do WhatsApp necessária para esta operação.",
)
_SERVER = _r(
    S,
    "WhatsApp tuvo un error temporal; se reintentará automáticamente.",
    "WhatsApp had a temporary error; it will be retried automatically.",
    "O WhatsApp teve um erro temporário; será tentado novamente automaticamente.",
    retriable=True,
    base_delay=5,
    max_delay=300,
)

_SPECS: dict[int, _Spec] = {
    0: _AUTH,
    190: _r(
        A,
        "El token de acceso de WhatsApp venció o fue revocado: hay que renovarlo en la configuración.",
        "The WhatsApp access token expired or was revoked: renew it in the settings.",
        "O token de acesso do WhatsApp expirou ou foi revogado: renove-o nas configurações.",
    ),
    3: _PERMISSION,
    10: _PERMISSION,
    4: _r(
        T,
        "Se superó el límite de llamadas a la API de la aplicación; se reintentará más tarde.",
        "The app's API call rate limit was hit; it will be retried later.",
        "O limite de chamadas à API do aplicativo foi atingido; será tentado novamente mais tarde.",
        retriable=True,
        base_delay=60,
        max_delay=900,
        throttle=Throttle.SENDER,
    ),
    80007: _r(
        T,
        "Se alcanzó el límite de solicitudes de la cuenta de WhatsApp Business; se reintentará más tarde.",
        "The WhatsApp Business Account rate limit was reached; it will be retried later.",
        "O limite de solicitações da conta do WhatsApp Business foi atingido; nova tentativa mais tarde.",
        retriable=True,
        base_delay=60,
        max_delay=900,
        throttle=Throttle.SENDER,
    ),
    130429: _r(
        T,
        "Se superó el límite de mensajes por segundo del número; se reintentará en unos segundos.",
        "The number's messages-per-second limit was hit; retrying in a few seconds.",
        "O limite de mensagens por segundo do número foi atingido; nova tentativa em alguns segundos.",
        retriable=True,
        base_delay=2,
        max_delay=60,
        throttle=Throttle.SENDER,
    ),
    131048: _r(
        T,
        "WhatsApp limitó los envíos de este número por baja calidad; se reintentará más tarde.",
        "WhatsApp restricted this number's sending because of low quality; it will be retried later.",
        "O WhatsApp restringiu os envios deste número por baixa qualidade; nova tentativa mais tarde.",
        retriable=True,
        base_delay=300,
        max_delay=3600,
        throttle=Throttle.SENDER,
    ),
    131056: _r(
        T,
        "Demasiados mensajes seguidos a este contacto; se reintentará en unos segundos.",
        "Too many messages to this contact in a short time; retrying in a few seconds.",
        "Mensagens demais para este contato em pouco tempo; nova tentativa em alguns segundos.",
        retriable=True,
        base_delay=6,
        max_delay=120,
        throttle=Throttle.RECIPIENT,
    ),
    131064: _r(
        T,
        "Se alcanzó el límite de mensajes por infracciones de clasificación de plantillas; "
        "espere 24 h antes de volver a intentarlo.",
        "Messaging limit reached due to template category violations; wait 24 h before trying again.",
        "Limite de mensagens atingido por violações de categoria de modelos; aguarde 24 h para tentar de novo.",
        retry_after=86400,
    ),
    133016: _r(
        T,
        "Demasiados intentos de registro del número; se reintentará más tarde.",
        "Too many registration attempts for this number; it will be retried later.",
        "Tentativas demais de registro do número; nova tentativa mais tarde.",
        retriable=True,
        base_delay=3600,
        max_delay=86400,
    ),
    368: _r(
        I,
        "La cuenta de WhatsApp Business está restringida por infringir políticas.",
        "The WhatsApp Business Account is restricted for policy violations.",
        "A conta do WhatsApp Business está restrita por violar políticas.",
    ),
    131031: _r(
        I,
        "La cuenta de WhatsApp Business está bloqueada; revise el estado en el Administrador de WhatsApp.",
        "The WhatsApp Business Account is locked; check its status in WhatsApp Manager.",
        "A conta do WhatsApp Business está bloqueada; verifique o status no Gerenciador do WhatsApp.",
    ),
    130497: _r(
        I,
        "La cuenta no puede enviar mensajes a usuarios de este país.",
        "The account is not allowed to message users in this country.",
        "A conta não pode enviar mensagens para usuários deste país.",
    ),
    1: _SERVER,
    2: _SERVER,
    131000: _r(
        S,
        "Error desconocido de WhatsApp al enviar; se reintentará.",
        "Unknown WhatsApp error while sending; it will be retried.",
        "Erro desconhecido do WhatsApp ao enviar; será tentado novamente.",
        retriable=True,
        base_delay=10,
        max_delay=300,
    ),
    131016: _r(
        S,
        "El servicio de WhatsApp no está disponible en este momento; se reintentará.",
        "The WhatsApp service is unavailable right now; it will be retried.",
        "O serviço do WhatsApp está indisponível agora; será tentado novamente.",
        retriable=True,
        base_delay=30,
        max_delay=600,
    ),
    131057: _r(
        S,
        "La cuenta de WhatsApp está en mantenimiento; se reintentará más tarde.",
        "The WhatsApp account is in maintenance mode; it will be retried later.",
        "A conta do WhatsApp está em modo de manutenção; nova tentativa mais tarde.",
        retriable=True,
        base_delay=300,
        max_delay=3600,
    ),
    33: _r(
        R,
        "El número de la empresa no existe o fue eliminado de la cuenta.",
        "The business phone number does not exist or was deleted.",
        "O número da empresa não existe ou foi excluído.",
    ),
    100: _r(
        R,
        "WhatsApp rechazó un parámetro del mensaje (inválido o no admitido).",
        "WhatsApp rejected a message parameter (invalid or unsupported).",
        "O WhatsApp rejeitou um parâmetro da mensagem (inválido ou não suportado).",
    ),
    131006: _r(
        R,
        "WhatsApp no encontró el recurso solicitado.",
        "WhatsApp could not find the requested resource.",
        "O WhatsApp não encontrou o recurso solicitado.",
    ),
    130472: _r(
        SE,
        "El número del cliente participa en un experimento de WhatsApp y no recibe este mensaje de marketing.",
        "The customer's number is part of a WhatsApp experiment and cannot receive this marketing message.",
        "O número do cliente participa de um experimento do WhatsApp e não recebe esta mensagem de marketing.",
    ),
    131005: _r(
        SE,
        "Acceso denegado: la aplicación no tiene permiso para enviar desde este número.",
        "Access denied: the app is not allowed to send from this number.",
        "Acesso negado: o aplicativo não tem permissão para enviar deste número.",
    ),
    131008: _r(
        SE,
        "Falta un parámetro obligatorio en el mensaje.",
        "A required message parameter is missing.",
        "Falta um parâmetro obrigatório na mensagem.",
    ),
    131009: _r(
        SE,
        "Un valor del mensaje no es válido (por ejemplo el número o el enlace).",
        "A message value is invalid (for example the number or a link).",
        "Um valor da mensagem é inválido (por exemplo o número ou um link).",
    ),
    131021: _r(
        SE,
        "No se puede enviar un mensaje al mismo número de la empresa.",
        "A message cannot be sent to the business's own number.",
        "Não é possível enviar uma mensagem para o próprio número da empresa.",
    ),
    131026: _r(
        SE,
        "No se pudo entregar: el contacto no usa WhatsApp, tiene una versión antigua o no aceptó los términos.",
        "Undeliverable: the contact is not on WhatsApp, has an old app version or has not accepted the terms.",
        "Não entregue: o contato não usa WhatsApp, tem uma versão antiga ou não aceitou os termos.",
    ),
    131030: _r(
        SE,
        "El destinatario no está en la lista de números permitidos de la cuenta de prueba.",
        "The recipient is not in the test account's allowed list.",
        "O destinatário não está na lista de números permitidos da conta de teste.",
    ),
    131037: _r(
        SE,
        "El nombre visible del número aún no fue aprobado.",
        "The number's display name has not been approved yet.",
        "O nome de exibição do número ainda não foi aprovado.",
    ),
    131042: _r(
        SE,
        "Hay un problema con el método de pago de la cuenta de WhatsApp Business.",
        "There is a problem with the WhatsApp Business Account's payment method.",
        "Há um problema com a forma de pagamento da conta do WhatsApp Business.",
    ),
    131045: _r(
        SE,
        "El número no está registrado correctamente (certificado inválido).",
        "The number is not properly registered (invalid certificate).",
        "O número não está registrado corretamente (certificado inválido).",
    ),
    131047: _r(
        SE,
        "Pasaron más de 24 h desde el último mensaje del cliente: envíe una plantilla aprobada.",
        "More than 24 h passed since the customer's last message: send an approved template.",
        "Passaram mais de 24 h desde a última mensagem do cliente: envie um modelo aprovado.",
        requires_template=True,
    ),
    131049: _r(
        SE,
        "WhatsApp no entregó este mensaje de marketing para cuidar la experiencia del usuario; "
        "no lo reintente hasta dentro de 24 h.",
        "WhatsApp did not deliver this marketing message to protect user engagement; do not retry for 24 h.",
        "O WhatsApp não entregou esta mensagem de marketing para proteger a experiência do usuário; "
        "não tente novamente por 24 h.",
        retry_after=86400,
    ),
    131050: _r(
        SE,
        "El cliente dejó de recibir mensajes de marketing de esta empresa.",
        "The customer stopped marketing messages from this business.",
        "O cliente deixou de receber mensagens de marketing desta empresa.",
    ),
    131051: _r(
        SE,
        "Tipo de mensaje no admitido por WhatsApp.",
        "Message type not supported by WhatsApp.",
        "Tipo de mensagem não suportado pelo WhatsApp.",
    ),
    131052: _r(
        SE,
        "No se pudo descargar el archivo enviado por el cliente.",
        "The file sent by the customer could not be downloaded.",
        "Não foi possível baixar o arquivo enviado pelo cliente.",
    ),
    131053: _r(
        SE,
        "WhatsApp no pudo obtener o procesar el archivo adjunto (enlace, tipo o tamaño).",
        "WhatsApp could not fetch or process the attachment (link, type or size).",
        "O WhatsApp não conseguiu obter ou processar o anexo (link, tipo ou tamanho).",
    ),
    131062: _r(
        SE,
        "Este número no puede enviar a contactos identificados solo por usuario (BSUID).",
        "This number cannot message contacts identified only by user id (BSUID).",
        "Este número não pode enviar para contatos identificados só por usuário (BSUID).",
    ),
    131063: _r(
        SE,
        "Las plantillas de marketing están deshabilitadas para esta cuenta en la Cloud API.",
        "Marketing templates are disabled for this account on the Cloud API.",
        "Os modelos de marketing estão desativados para esta conta na Cloud API.",
    ),
    132000: _r(
        TP,
        "La cantidad de variables no coincide con la plantilla.",
        "The number of variables does not match the template.",
        "A quantidade de variáveis não corresponde ao modelo.",
    ),
    132001: _r(
        TP,
        "La plantilla no existe en ese idioma o todavía no está aprobada.",
        "The template does not exist in that language or is not approved yet.",
        "O modelo não existe nesse idioma ou ainda não foi aprovado.",
    ),
    132005: _r(
        TP,
        "El texto de la plantilla con las variables completadas es demasiado largo.",
        "The template text with its variables filled in is too long.",
        "O texto do modelo com as variáveis preenchidas é longo demais.",
    ),
    132007: _r(
        TP,
        "El contenido de la plantilla infringe una política de WhatsApp.",
        "The template content violates a WhatsApp policy.",
        "O conteúdo do modelo viola uma política do WhatsApp.",
    ),
    132008: _r(
        TP,
        "Un valor de variable de la plantilla no es válido.",
        "A template variable value is invalid.",
        "Um valor de variável do modelo é inválido.",
    ),
    132012: _r(
        TP,
        "El formato de una variable de la plantilla no es válido.",
        "A template variable has an invalid format.",
        "Uma variável do modelo tem formato inválido.",
    ),
    132015: _r(
        TP,
        "La plantilla está pausada por baja calidad.",
        "The template is paused because of low quality.",
        "O modelo está pausado por baixa qualidade.",
    ),
    132016: _r(
        TP,
        "La plantilla fue deshabilitada por baja calidad.",
        "The template was disabled because of low quality.",
        "O modelo foi desativado por baixa qualidade.",
    ),
    132068: _r(
        TP,
        "El flujo (Flow) de la plantilla está bloqueado.",
        "The template's Flow is blocked.",
        "O fluxo (Flow) do modelo está bloqueado.",
    ),
    132069: _r(
        TP,
        "El flujo (Flow) de la plantilla está limitado temporalmente; se reintentará más tarde.",
        "The template's Flow is throttled; it will be retried later.",
        "O fluxo (Flow) do modelo está limitado temporariamente; nova tentativa mais tarde.",
        retriable=True,
        base_delay=600,
        max_delay=3600,
    ),
    135000: _r(
        SE,
        "WhatsApp rechazó el envío por un error genérico de parámetros.",
        "WhatsApp rejected the send because of a generic parameter error.",
        "O WhatsApp rejeitou o envio por um erro genérico de parâmetros.",
    ),
    137000: _r(
        SE,
        "La identidad del cliente cambió (otro teléfono o reinstalación); el mensaje no se entregó.",
        "The customer's identity changed (new phone or reinstall); the message was not delivered.",
        "A identidade do cliente mudou (novo telefone ou reinstalação); a mensagem não foi entregue.",
    ),
    2388019: _r(
        TM,
        "Se alcanzó el máximo de plantillas de la cuenta.",
        "The account reached its maximum number of templates.",
        "A conta atingiu o número máximo de modelos.",
    ),
    2388040: _r(
        TM,
        "Un campo de la plantilla supera el largo permitido.",
        "A template field exceeds the allowed length.",
        "Um campo do modelo excede o comprimento permitido.",
    ),
    2388047: _r(
        TM,
        "El formato del encabezado o del cuerpo de la plantilla no es válido.",
        "The template header or body format is invalid.",
        "O formato do cabeçalho ou do corpo do modelo é inválido.",
    ),
    2388073: _r(
        TM,
        "El formato del pie de la plantilla no es válido.",
        "The template footer format is invalid.",
        "O formato do rodapé do modelo é inválido.",
    ),
    2388293: _r(
        TM,
        "La plantilla tiene demasiadas variables para su largo.",
        "The template has too many variables for its length.",
        "O modelo tem variáveis demais para o seu comprimento.",
    ),
    2388299: _r(
        TM,
        "La plantilla no puede empezar ni terminar con una variable.",
        "The template cannot start or end with a variable.",
        "O modelo não pode começar nem terminar com uma variável.",
    ),
}

_TIMEOUT = _r(
    ErrorCategory.TRANSPORT,
    "WhatsApp no respondió a tiempo; se reintentará.",
    "WhatsApp did not answer in time; it will be retried.",
    "O WhatsApp não respondeu a tempo; será tentado novamente.",
    retriable=True,
    base_delay=2,
    max_delay=120,
)
_CONNECTION = _r(
    ErrorCategory.TRANSPORT,
    "No se pudo conectar con WhatsApp; se reintentará.",
    "Could not connect to WhatsApp; it will be retried.",
    "Não foi possível conectar ao WhatsApp; será tentado novamente.",
    retriable=True,
    base_delay=2,
    max_delay=120,
)
_HTTP_5XX = _r(
    ErrorCategory.SERVER,
    "WhatsApp respondió con un error del servidor; se reintentará.",
    "WhatsApp answered with a server error; it will be retried.",
    "O WhatsApp respondeu com um erro do servidor; será tentado novamente.",
    retriable=True,
    base_delay=5,
    max_delay=300,
)
_HTTP_429 = _r(
    ErrorCategory.THROTTLE,
    "WhatsApp pidió bajar el ritmo de envíos; se reintentará.",
    "WhatsApp asked us to slow down; it will be retried.",
    "O WhatsApp pediu para reduzir o ritmo de envios; será tentado novamente.",
    retriable=True,
    base_delay=10,
    max_delay=300,
    throttle=Throttle.SENDER,
)
_HTTP_OTHER = _r(
    ErrorCategory.UNKNOWN,
    "WhatsApp rechazó la solicitud con un error inesperado.",
    "WhatsApp rejected the request with an unexpected error.",
    "O WhatsApp rejeitou a solicitação com um erro inesperado.",
)
_VALIDATION = (
    "El mensaje no cumple los límites de WhatsApp: {details}",
    "The message does not meet WhatsApp's limits: {details}",
    "A mensagem não cumpre os limites do WhatsApp: {details}",
)


def _spec_for(code: int, http_status: int | None) -> _Spec | None:
    spec = _SPECS.get(code)
    if spec is not None:
        return spec
    if 200 <= code <= 299:
        return _PERMISSION
    if http_status is not None and http_status >= 500:
        return _HTTP_5XX
    return None


def _fallback_category(code: int) -> ErrorCategory:
    if 132000 <= code < 133000:
        return ErrorCategory.TEMPLATE
    if 2388000 <= code < 2389000:
        return ErrorCategory.TEMPLATE_MANAGEMENT
    if 131000 <= code < 132000:
        return ErrorCategory.SEND
    return ErrorCategory.UNKNOWN


def is_retriable_code(code: int, http_status: int | None = None) -> bool:
    spec = _spec_for(code, http_status)
    return bool(spec and spec.retriable)


def _reasons(spec: _Spec) -> dict[str, str]:
    es, en, pt = spec.reasons
    return {"es": es, "en": en, "pt": pt}


def _build(
    spec: _Spec,
    code: int,
    title: str,
    details: str | None,
    *,
    http_status: int | None = None,
    subcode: int | None = None,
    fbtrace_id: str | None = None,
) -> ChannelError:
    if spec.retriable:
        return ChannelRetriableError(
            code,
            title,
            details,
            defer_seconds=spec.base_delay,
            max_defer_seconds=spec.max_delay,
            throttle=spec.throttle,
            category=spec.category,
            reasons=_reasons(spec),
            http_status=http_status,
            subcode=subcode,
            fbtrace_id=fbtrace_id,
        )
    return ChannelPermanentError(
        code,
        title,
        details,
        requires_template=spec.requires_template,
        retry_after_seconds=spec.retry_after,
        category=spec.category,
        reasons=_reasons(spec),
        http_status=http_status,
        subcode=subcode,
        fbtrace_id=fbtrace_id,
    )


_TITLE_PREFIX = re.compile(r"^\(#\d+\)\s*")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def map_error(error: Mapping[str, Any] | ProviderError, *, http_status: int | None = None) -> ChannelError:
    """Map a Graph ``error`` body, a full ``{"error": {...}}`` response, a webhook ``errors[]`` item,
    or a parsed ``ProviderError`` to a typed channel error."""
    if isinstance(error, ProviderError):
        code: int | None = error.code
        title = error.title or error.message
        details = error.details
        subcode = None
        fbtrace = None
    else:
        inner = error.get("error")
        if isinstance(inner, Mapping):
            error = inner
        code = _int(error.get("code"))
        raw_message = _str(error.get("message"))
        title = _str(error.get("title")) or (_TITLE_PREFIX.sub("", raw_message) if raw_message else None)
        error_data = error.get("error_data")
        details = _str(error_data.get("details")) if isinstance(error_data, Mapping) else None
        subcode = _int(error.get("error_subcode"))
        fbtrace = _str(error.get("fbtrace_id"))
    if code is None:
        return _http_only(http_status, title, details)
    title = title or f"Graph API error {code}"
    spec = _spec_for(code, http_status)
    if spec is None:
        # Unknown code: generic per-class reasons that quote the code for support.
        return ChannelPermanentError(
            code,
            title,
            details,
            category=_fallback_category(code),
            http_status=http_status,
            subcode=subcode,
            fbtrace_id=fbtrace,
        )
    return _build(spec, code, title, details, http_status=http_status, subcode=subcode, fbtrace_id=fbtrace)


def _http_only(http_status: int | None, title: str | None, details: str | None) -> ChannelError:
    status = http_status or 0
    if status >= 500:
        spec = _HTTP_5XX
    elif status == 429:
        spec = _HTTP_429
    elif status in (401, 403):
        spec = _AUTH
    else:
        spec = _HTTP_OTHER
    return _build(spec, CODE_HTTP, title or f"HTTP {status}", details, http_status=http_status)


def error_from_response(status_code: int, body: bytes) -> ChannelError:
    """An HTTP error response (any non-2xx) → typed error; uses the Graph body when present."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return map_error(payload["error"], http_status=status_code)
    snippet = body[:200].decode("utf-8", "replace") if body else None
    return _http_only(status_code, f"HTTP {status_code}", snippet)


def error_from_exception(exc: httpx.HTTPError) -> ChannelRetriableError:
    """Transport failures (timeouts, refused connections, protocol errors) are retriable."""
    if isinstance(exc, httpx.TimeoutException):
        spec, code = _TIMEOUT, CODE_TIMEOUT
    else:
        spec, code = _CONNECTION, CODE_CONNECTION
    err = _build(spec, code, exc.__class__.__name__, str(exc) or None)
    assert isinstance(err, ChannelRetriableError)
    return err


def invalid_response_error(details: str) -> ChannelPermanentError:
    """A 2xx answer we cannot use (not JSON, no message id). Not retried: the request may have been
    accepted, and a retry could send the message twice."""
    return ChannelPermanentError(
        CODE_INVALID_RESPONSE,
        "Invalid response",
        details,
        category=ErrorCategory.SERVER,
        reasons={
            "es": "WhatsApp respondió de forma inesperada; verifique si el mensaje llegó antes de reenviarlo.",
            "en": "WhatsApp gave an unexpected answer; check whether the message arrived before resending.",
            "pt": "O WhatsApp respondeu de forma inesperada; verifique se a mensagem chegou antes de reenviar.",
        },
    )


def validation_error(details: str) -> ChannelPermanentError:
    """Raised before any HTTP call when a request breaks a documented Cloud API limit."""
    es, en, pt = _VALIDATION
    return ChannelPermanentError(
        CODE_LOCAL_VALIDATION,
        "Invalid parameter",
        details,
        category=ErrorCategory.VALIDATION,
        reasons={
            "es": es.format(details=details),
            "en": en.format(details=details),
            "pt": pt.format(details=details),
        },
        local=True,
    )
