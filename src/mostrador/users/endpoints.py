from __future__ import annotations

from fastapi import APIRouter

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.models import User
from mostrador.users.schemas import AgentRead
from mostrador.users.service import user as user_service

router = APIRouter(prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[AgentRead])
async def list_agents(user: ApiUser, session: SessionDep, include_inactive: bool = False) -> list[User]:
    """The account's agents, by name: the ids to use as ``assignee_id`` when assigning a conversation."""
    agents = await user_service.list(session, user.account_id)
    return agents if include_inactive else [agent for agent in agents if agent.is_active]
