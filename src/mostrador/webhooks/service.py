"""Webhook intake: store first (idempotent on the body's hash), then process every event in a job."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import (
    AccountEvent,
    InboundEvent,
    InboundMessage,
    PreferenceValue,
    ProviderErrorEvent,
    StatusUpdate,
    TemplateStatusUpdate,
    UnreadableEvent,
    UserPreferenceUpdate,
    WebhookShapeError,
)
from mostrador.channels.whatsapp.parse import parse_webhook_body
from mostrador.contacts.repository import ContactRepository
from mostrador.inboxes.adapters import capabilities_for
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.batching import Batcher
from mostrador.kit.db.savepoint import savepoint
from mostrador.kit.ratelimit import MAX_THROUGHPUT_PER_S
from mostrador.kit.time import utc_now
from mostrador.logging import get_logger
from mostrador.message_templates.service import updated_components
from mostrador.messages.inbound import inbound
from mostrador.models import (
    AuditEvent,
    ChannelKind,
    Inbox,
    MessageTemplate,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import Runtime
from mostrador.webhooks.repository import WebhookEventRepository, insert_many_if_new
from mostrador.worker import enqueue
from mostrador.worker.enqueue import PendingJob
from mostrador.worker.registry import backoff_seconds

log = get_logger(__name__)

# A status can outrun the commit of the send that produced its wamid; give that send time to land.
UNKNOWN_STATUS_RETRIES = 3
MAX_ATTEMPTS = 8
# Bodies stored in one group commit are applied together, set-based, this many per job: receipts-only bodies,
# and bodies that carry only customer messages. Each step of a batch locks its rows in one global order (inbox,
# then row id), so two batches cannot deadlock; anything else gets a job (a transaction) per body.
RECEIPTS_PER_JOB = 200
MESSAGES_PER_JOB = 50
# While one group commit runs, the next starts only once this many deliveries wait (see Batcher).
OVERLAP_AT = 8


_SHA256 = hashlib.sha256()


def body_key(body: bytes) -> str:
    """SHA-256 of the raw body: Meta's retries of one notification are the same bytes. Copying an empty hash
    skips looking the algorithm up, which cost more than hashing a webhook body."""
    digest = _SHA256.copy()
    digest.update(body)
    return digest.hexdigest()


# phone_number_quality_update events that say how the number's quality stands (the others: UPGRADE, DOWNGRADE,
# ONBOARDING, THROUGHPUT_UPGRADE… are about its limits).
QUALITY_EVENTS = frozenset({"FLAGGED", "UNFLAGGED"})
# account_update events that describe the account's standing; the others (pricing tiers, partners, country…) are
# notices, kept in the audit log only, which must not hide a standing restriction.
STANDING_EVENTS = frozenset(
    {"VERIFIED_ACCOUNT", "DISABLED_UPDATE", "ACCOUNT_VIOLATION", "ACCOUNT_RESTRICTION", "ACCOUNT_DELETED"}
)


class _StatusesAhead(Exception):
    pass


@dataclass
class ProcessReport:
    events: int = 0
    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    unknown_statuses: int = 0
    unroutable: int = 0
    unreadable: int = 0
    other: int = 0
    account_id: int | None = None
    notes: list[str] = field(default_factory=list)


class WebhookIntake:
    def __init__(self) -> None:
        self._doorbells: set[asyncio.Task[None]] = set()
        self._batchers: WeakKeyDictionary[Runtime, Batcher[tuple[ChannelKind, bytes, bool], bool]] = WeakKeyDictionary()

    async def store(self, runtime: Runtime, kind: ChannelKind, body: bytes, *, urgent: bool = True) -> bool:
        """Commit the raw body and ring the processor; False when this exact body was stored before.

        Concurrent requests share one transaction (group commit): each still answers only after its row
        is committed.
        """
        batcher = self._batchers.get(runtime)
        if batcher is None:
            batcher = Batcher(lambda items: self._store_batch(runtime, items), overlap_at=OVERLAP_AT)
            self._batchers[runtime] = batcher
        return await batcher.submit((kind, body, urgent))

    async def _store_batch(self, runtime: Runtime, items: Sequence[tuple[ChannelKind, bytes, bool]]) -> list[bool]:
        """``urgent`` bodies (a customer wrote) ring the inbound queue; receipts-only bodies a lower one."""
        keys = [body_key(body) for _kind, body, _urgent in items]
        by_kind: dict[ChannelKind, dict[str, tuple[str, bool]]] = {}
        for (kind, body, urgent), key in zip(items, keys, strict=True):
            by_kind.setdefault(kind, {})[key] = (body.decode("utf-8", errors="replace"), urgent)
        created: dict[tuple[ChannelKind, str], int] = {}
        jobs: list[PendingJob] = []
        for kind, bodies in by_kind.items():
            urgent_ids: list[int] = []
            receipt_ids: list[int] = []
            rows = [(key, body) for key, (body, _urgent) in bodies.items()]
            for key, event_id in (await insert_many_if_new(runtime.db, kind, rows)).items():
                created[(kind, key)] = event_id
                (urgent_ids if bodies[key][1] else receipt_ids).append(event_id)
            jobs += [
                PendingJob("webhooks.process_messages", tuple(urgent_ids[start : start + MESSAGES_PER_JOB]))
                for start in range(0, len(urgent_ids), MESSAGES_PER_JOB)
            ]
            jobs += [
                PendingJob("webhooks.process_receipts", tuple(receipt_ids[start : start + RECEIPTS_PER_JOB]))
                for start in range(0, len(receipt_ids), RECEIPTS_PER_JOB)
            ]
        # The rows are committed, so the senders may have their answer now; the doorbells ring meanwhile (for the
        # embedded runner before any answer goes out; a doorbell lost to a crash is re-rung by the sweeper).
        doorbell = asyncio.create_task(runtime.after_commit(jobs, []), name="webhook-doorbells")
        self._doorbells.add(doorbell)
        doorbell.add_done_callback(self._doorbells.discard)
        # A repeat inside the batch is a duplicate: only its first sender gets "stored".
        return [
            created.pop((kind, key), None) is not None for (kind, _body, _urgent), key in zip(items, keys, strict=True)
        ]

    async def process(self, session: AsyncSession, event_id: int) -> ProcessReport | None:
        """Apply every event of one stored body (replay's way in; jobs use :meth:`process_many`)."""
        row = await WebhookEventRepository.from_session(session).get_for_update(event_id)
        if row is None or row.state in (WebhookEventState.handled, WebhookEventState.failed):
            return None
        return await self._process_locked(session, _InboxRouter(session), row)

    async def process_many(self, session: AsyncSession, event_ids: Sequence[int]) -> list[ProcessReport | None]:
        """The one-by-one path (``webhooks.process``): each body in its own savepoint, with retries and notes.
        Jobs carry one body each; rows another job holds are skipped (that job applies them).
        """
        rows = await WebhookEventRepository.from_session(session).lock_waiting(event_ids)
        router = _InboxRouter(session)
        return [await self._process_locked(session, router, row) for row in rows]

    async def _process_locked(
        self, session: AsyncSession, router: _InboxRouter, row: WebhookEvent
    ) -> ProcessReport | None:
        """Failures are recorded on the row and retried with backoff.

        The row is written once, at the end, whichever way it went (one UPDATE, not one per step).
        """
        row_id, attempts = row.id, row.attempts + 1
        try:
            async with savepoint(session):
                return await self._process_row(session, router, row, attempts)
        except _StatusesAhead as ahead:
            router.forget()  # the savepoint rollback expired what it loaded
            await session.refresh(row)
            row.attempts = attempts
            row.last_error = str(ahead)
            enqueue(session, "webhooks.process", row_id, delay_s=2.0 * attempts)
        except Exception as error:
            log.warning("webhook.process_failed", event_id=row_id, attempt=attempts, error=repr(error))
            router.forget()
            await session.refresh(row)
            row.attempts = attempts
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if attempts >= MAX_ATTEMPTS:
                row.state = WebhookEventState.failed
                row.handled_at = utc_now()
            else:
                enqueue(session, "webhooks.process", row_id, delay_s=backoff_seconds(attempts))
        return None

    async def process_receipts(self, session: AsyncSession, event_ids: Sequence[int]) -> BatchReport:
        """Apply many receipts-only bodies at once: a few queries per batch instead of a dozen per status."""
        return await self._process_batch(session, event_ids, StatusUpdate, self._apply_receipts)

    async def process_messages(self, session: AsyncSession, event_ids: Sequence[int]) -> BatchReport:
        """Record the customer messages of many bodies at once: a few queries per batch and inbox."""
        return await self._process_batch(session, event_ids, InboundMessage, self._apply_messages)

    async def _process_batch(
        self,
        session: AsyncSession,
        event_ids: Sequence[int],
        kind: type[StatusUpdate] | type[InboundMessage],
        apply: _BatchApply,
    ) -> BatchReport:
        """Only the plain case is taken here (every event of a body of ``kind``, in one routable inbox); any
        other body goes to :meth:`process` on its own, which has the retries and the notes. Both are idempotent,
        so a body applied partly here and again there ends in the same state.
        """
        report = BatchReport()
        repository = WebhookEventRepository.from_session(session)
        rows = await repository.lock_waiting_bodies(event_ids)
        router = _InboxRouter(session)
        plain: list[tuple[int, Inbox, list[StatusUpdate | InboundMessage]]] = []
        for event_id, body in rows:
            taken = await self._plain(router, body, kind)
            if taken is None:
                report.handed_over.append(event_id)
            else:
                plain.append((event_id, *taken))
        by_inbox: dict[int, tuple[Inbox, list[StatusUpdate | InboundMessage]]] = {}
        for _event_id, inbox, events in plain:
            by_inbox.setdefault(inbox.id, (inbox, []))[1].extend(events)
        postponed: set[str] = set()
        try:
            async with savepoint(session):
                # Inboxes in one global order, and each step locks its rows in id order: two batches cannot deadlock.
                for inbox, events in (by_inbox[inbox_id] for inbox_id in sorted(by_inbox)):
                    postponed |= await apply(session, inbox, events)
        except Exception as error:  # the per-body path will retry and record each one
            log.warning("webhook.batch_failed", kind=kind.__name__, events=len(plain), error=repr(error))
            router.forget()
            report.handed_over.extend(event_id for event_id, _inbox, _events in plain)
            plain = []
        alike: dict[tuple[int, int], list[int]] = {}  # (account, events per body) → rows: usually one UPDATE
        for event_id, inbox, events in plain:
            if any(event.provider_message_id in postponed for event in events):
                report.handed_over.append(event_id)  # e.g. a status ahead of its send: process() waits and retries
                continue
            alike.setdefault((inbox.account_id, len(events)), []).append(event_id)
            report.applied += len(events)
            report.handled += 1
        now = utc_now()
        for (account_id, event_count), handled in sorted(alike.items()):
            await repository.mark_handled(handled, account_id=account_id, event_count=event_count, at=now)
        for event_id in report.handed_over:
            enqueue(session, "webhooks.process", event_id)
        await session.flush()
        return report

    async def _apply_receipts(
        self, session: AsyncSession, inbox: Inbox, events: Sequence[StatusUpdate | InboundMessage]
    ) -> set[str]:
        """Statuses of messages not known yet are postponed (their send may not have committed yet)."""
        updates = [event for event in events if isinstance(event, StatusUpdate)]
        results = await inbound.apply_statuses(session, inbox, updates)
        return {update.provider_message_id for update, message in zip(updates, results, strict=True) if message is None}

    async def _apply_messages(
        self, session: AsyncSession, inbox: Inbox, events: Sequence[StatusUpdate | InboundMessage]
    ) -> set[str]:
        messages = [event for event in events if isinstance(event, InboundMessage)]
        await inbound.record_messages(session, inbox, messages, capabilities_for(inbox.channel_kind))
        return set()

    async def _plain(
        self, router: _InboxRouter, body: str, kind: type[StatusUpdate] | type[InboundMessage]
    ) -> tuple[Inbox, list[StatusUpdate | InboundMessage]] | None:
        try:
            events = parse_webhook_body(body)
        except WebhookShapeError:
            return None
        taken = [event for event in events if isinstance(event, kind)]
        if not taken or len(taken) != len(events):
            return None
        inboxes = {event.channel_account_id for event in taken}
        if len(inboxes) != 1:
            return None
        inbox = await router.by_phone_number_id(inboxes.pop())
        return None if inbox is None else (inbox, list(taken))

    async def _process_row(
        self, session: AsyncSession, router: _InboxRouter, row: WebhookEvent, attempts: int
    ) -> ProcessReport:
        try:
            events = parse_webhook_body(row.body)
        except WebhookShapeError as error:
            row.attempts = attempts
            row.state = WebhookEventState.failed
            row.last_error = f"unrecognised shape: {error}"
            row.handled_at = utc_now()
            return ProcessReport(notes=[row.last_error])
        report = ProcessReport(events=len(events))
        for event in events:
            await self._apply(session, router, row, event, report)
        if report.unknown_statuses:
            if attempts <= UNKNOWN_STATUS_RETRIES:
                raise _StatusesAhead(f"{report.unknown_statuses} statuses for messages not known yet")
            report.notes.append(f"{report.unknown_statuses} statuses for messages not sent by Mostrador")
        row.attempts = attempts
        if report.account_id is not None:
            row.account_id = report.account_id
        row.event_count = report.events
        if report.unreadable and report.unreadable == report.events:
            row.state = WebhookEventState.failed  # nothing in it we could read: a replay may, once we can
        elif report.unroutable and report.unroutable == report.events:
            row.state = WebhookEventState.unroutable
        else:
            row.state = WebhookEventState.handled
        row.last_error = "; ".join(report.notes)[:2000] or None
        row.handled_at = utc_now()
        return report

    async def _apply(
        self, session: AsyncSession, router: _InboxRouter, row: WebhookEvent, event: InboundEvent, report: ProcessReport
    ) -> None:
        if isinstance(event, UnreadableEvent):
            report.unreadable += 1
            report.notes.append(f"unreadable {event.path}: {event.reason}")
            return
        if isinstance(event, InboundMessage | StatusUpdate):
            inbox = await router.by_phone_number_id(event.channel_account_id)
            if inbox is None:
                report.unroutable += 1
                report.notes.append(f"no inbox for phone_number_id {event.channel_account_id}")
                return
            report.account_id = inbox.account_id
            if isinstance(event, InboundMessage):
                recorded = await inbound.record_message(session, inbox, event, capabilities_for(inbox.channel_kind))
                if recorded is None:
                    report.duplicates += 1
                else:
                    report.messages += 1
            else:
                applied = await inbound.apply_status(session, inbox, event)
                if applied is None:
                    report.unknown_statuses += 1
                else:
                    report.statuses += 1
            return
        report.other += 1
        if isinstance(event, TemplateStatusUpdate):
            await self._apply_template(session, router, event, report)
        elif isinstance(event, UserPreferenceUpdate):
            await self._apply_preference(session, router, event, report)
        elif isinstance(event, AccountEvent):
            await self._apply_account(session, router, event, report)
        elif isinstance(event, ProviderErrorEvent):
            inboxes = await router.for_event(event.channel_account_id, event.account_id)
            for inbox in inboxes:
                session.add(
                    AuditEvent(
                        account_id=inbox.account_id,
                        action="whatsapp.webhook_error",
                        subject_type="inbox",
                        subject_id=inbox.id,
                        data={"code": event.error.code, "title": event.error.title, "details": event.error.details},
                    )
                )
            report.notes.append(f"provider error {event.error.code}: {event.error.title}")

    async def _apply_template(
        self, session: AsyncSession, router: _InboxRouter, event: TemplateStatusUpdate, report: ProcessReport
    ) -> None:
        inboxes = await router.for_event(None, event.account_id)
        if not inboxes:
            report.notes.append(f"template update for unknown business account {event.account_id}")
            return
        for inbox in inboxes:
            template = (
                await session.execute(
                    select(MessageTemplate).where(
                        MessageTemplate.inbox_id == inbox.id,
                        MessageTemplate.provider_template_id == event.template_id,
                    )
                )
            ).scalar_one_or_none()
            if template is None and event.template_name and event.language:
                template = (
                    await session.execute(
                        select(MessageTemplate).where(
                            MessageTemplate.inbox_id == inbox.id,
                            MessageTemplate.name == event.template_name,
                            MessageTemplate.language == event.language,
                        )
                    )
                ).scalar_one_or_none()
            if template is None:
                if not (event.template_name and event.language):
                    continue
                template = MessageTemplate(
                    account_id=inbox.account_id,
                    inbox_id=inbox.id,
                    name=event.template_name,
                    language=event.language,
                    provider_template_id=event.template_id,
                )
                session.add(template)
            template.provider_template_id = event.template_id
            if event.event:
                template.status = event.event.upper()
                if event.event.upper() == "REJECTED":
                    template.rejected_reason = event.reason
            if event.new_quality_score:
                template.quality = event.new_quality_score
            if event.new_category or event.category:
                template.category = (event.new_category or event.category or template.category).upper()
            updated = event.field == "message_template_components_update" and isinstance(event.value, dict)
            if updated:
                template.components = updated_components(template.components, event.value)
            await session.flush()
            if updated or not template.components:
                # status webhooks carry no content, and an update only its texts: Meta's copy has the rest
                enqueue(session, "templates.sync", inbox.id)

    async def _apply_preference(
        self, session: AsyncSession, router: _InboxRouter, event: UserPreferenceUpdate, report: ProcessReport
    ) -> None:
        if event.value not in (PreferenceValue.STOP, PreferenceValue.RESUME):
            return
        inboxes = await router.for_event(event.channel_account_id, event.account_id)
        account_ids = {inbox.account_id for inbox in inboxes}
        if not account_ids:
            report.notes.append("user_preferences for an unknown number")
            return
        contacts = ContactRepository.from_session(session)
        for account_id in account_ids:
            for found in await contacts.matching_whatsapp_ids(account_id, event.wa_id, event.user_id):
                found.marketing_opt_out_at = (
                    (event.timestamp or utc_now()) if event.value is PreferenceValue.STOP else None
                )
        await session.flush()

    async def _apply_account(
        self, session: AsyncSession, router: _InboxRouter, event: AccountEvent, report: ProcessReport
    ) -> None:
        value = event.value if isinstance(event.value, dict) else {}
        inboxes = await router.for_event(event.channel_account_id, event.account_id)
        if not inboxes:
            report.notes.append(f"{event.field} for an unknown business account {event.account_id}")
        display = str(value.get("display_phone_number") or "")
        if display:
            matching = [i for i in inboxes if _digits(i.display_phone_number) == _digits(display)]
            if matching or event.field != "phone_number_quality_update":
                inboxes = matching or inboxes  # an account's event without a number of ours: the whole account
            elif len(inboxes) > 1:
                # A number's event is that number's; a guess could, say, lift another number to 1,000/s. An
                # account's only inbox is taken to be it (its display number may be missing or written otherwise).
                report.notes.append(f"{event.field} for {display}, which no inbox of the account shows")
                inboxes = []
        for inbox in inboxes:
            name = _str(value.get("event")) or ""
            if event.field == "phone_number_quality_update":
                # The daily limit moved from current_limit to max_daily_conversations_per_business (2026).
                limit = _str(value.get("max_daily_conversations_per_business")) or _str(value.get("current_limit"))
                inbox.messaging_limit = limit or inbox.messaging_limit
                if name in QUALITY_EVENTS:  # the others are about the limit or the throughput, not the quality
                    inbox.quality_rating = name
                elif name == "THROUGHPUT_UPGRADE":
                    inbox.throughput_mps = MAX_THROUGHPUT_PER_S
            elif event.field == "account_update" and name in STANDING_EVENTS:
                info = value.get("ban_info") or value.get("violation_info") or value.get("restriction_info")
                if info:
                    name = f"{name}: {json.dumps(info, ensure_ascii=False)[:150]}"
                inbox.account_status = name
            session.add(
                AuditEvent(
                    account_id=inbox.account_id,
                    action=f"whatsapp.{event.field}",
                    subject_type="inbox",
                    subject_id=inbox.id,
                    data=value,
                )
            )
        await session.flush()

    async def replay(self, runtime: Runtime, since: datetime | None, states: list[WebhookEventState]) -> ReplayResult:
        """Re-process stored events now; idempotent, so already-applied messages are not duplicated."""
        return await _replay(runtime, since, states)

    async def sweep(self, session: AsyncSession, stale_before: datetime) -> int:
        ids = await WebhookEventRepository.from_session(session).waiting_since(stale_before)
        for event_id in ids:
            enqueue(session, "webhooks.process", event_id)
        return len(ids)


class _BatchApply(Protocol):
    async def __call__(
        self, session: AsyncSession, inbox: Inbox, events: Sequence[StatusUpdate | InboundMessage]
    ) -> set[str]: ...


@dataclass
class BatchReport:
    handled: int = 0
    applied: int = 0
    handed_over: list[int] = field(default_factory=list)


@dataclass
class ReplayResult:
    total: int = 0
    handled: int = 0
    failed: int = 0
    unroutable: int = 0


async def _replay(runtime: Runtime, since: datetime | None, states: list[WebhookEventState]) -> ReplayResult:
    async with runtime.unit_of_work() as session:
        ids = await WebhookEventRepository.from_session(session).ids_for_replay(since, states)
    result = ReplayResult(total=len(ids))
    for event_id in ids:
        async with runtime.unit_of_work() as session:
            row = await WebhookEventRepository.from_session(session).get_for_update(event_id)
            if row is None:
                continue
            row.state = WebhookEventState.received
            row.attempts = 0
            await session.flush()
            await webhook_intake.process(session, event_id)
            state = row.state
        if state is WebhookEventState.handled:
            result.handled += 1
        elif state is WebhookEventState.unroutable:
            result.unroutable += 1
        elif state is WebhookEventState.failed:
            result.failed += 1
    return result


class _InboxRouter:
    """Per-job cache of webhook routing lookups (many events of one body share an inbox)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._by_phone: dict[str, Inbox | None] = {}
        self._by_business: dict[str, list[Inbox]] = {}

    def forget(self) -> None:
        self._by_phone.clear()
        self._by_business.clear()

    async def by_phone_number_id(self, phone_number_id: str) -> Inbox | None:
        if phone_number_id not in self._by_phone:
            self._by_phone[phone_number_id] = await inbox_service.route(
                self._session, ChannelKind.WHATSAPP, phone_number_id
            )
        return self._by_phone[phone_number_id]

    async def for_event(self, phone_number_id: str | None, business_account_id: str | None) -> list[Inbox]:
        if phone_number_id:
            found = await self.by_phone_number_id(phone_number_id)
            if found is not None:
                return [found]
        if not business_account_id:
            return []
        if business_account_id not in self._by_business:
            self._by_business[business_account_id] = await inbox_service.by_business_account(
                self._session, business_account_id
            )
        return self._by_business[business_account_id]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


webhook_intake = WebhookIntake()
