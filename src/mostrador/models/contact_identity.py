from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mostrador.kit.db.base import Base, IdMixin, TimestampMixin
from mostrador.models.contact import Contact


class ContactIdentity(IdMixin, TimestampMixin, Base):
    """How a contact is known in one inbox: ``wa_id`` or, when the phone is hidden, the BSUID."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("inbox_id", "source_id"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(String(100))

    contact: Mapped[Contact] = relationship(lazy="raise")
