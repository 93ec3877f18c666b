"""Every table, one module each; import models from here."""

from mostrador.kit.db.base import Base
from mostrador.models.account import Account
from mostrador.models.api_token import ApiToken
from mostrador.models.attachment import Attachment
from mostrador.models.audit_event import AuditEvent
from mostrador.models.canned_response import CannedResponse
from mostrador.models.contact import Contact
from mostrador.models.contact_identity import ContactIdentity
from mostrador.models.conversation import Conversation
from mostrador.models.conversation_label import ConversationLabel
from mostrador.models.enums import (
    AttachmentState,
    Availability,
    ChannelKind,
    ConversationStatus,
    Direction,
    MessageStatus,
    Priority,
    Role,
    SenderKind,
    WebhookEventState,
)
from mostrador.models.inbox import Inbox
from mostrador.models.label import Label
from mostrador.models.message import Message
from mostrador.models.message_status_event import MessageStatusEvent
from mostrador.models.message_template import MessageTemplate
from mostrador.models.team import Team
from mostrador.models.team_member import TeamMember
from mostrador.models.user import User
from mostrador.models.webhook_event import WebhookEvent

__all__ = [
    "Account",
    "ApiToken",
    "Attachment",
    "AttachmentState",
    "AuditEvent",
    "Availability",
    "Base",
    "CannedResponse",
    "ChannelKind",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationLabel",
    "ConversationStatus",
    "Direction",
    "Inbox",
    "Label",
    "Message",
    "MessageStatus",
    "MessageStatusEvent",
    "MessageTemplate",
    "Priority",
    "Role",
    "SenderKind",
    "Team",
    "TeamMember",
    "User",
    "WebhookEvent",
    "WebhookEventState",
]
