"""Bearer tokens for /api/v1: 32 random bytes, shown once; only their SHA-256 is stored.

Roles, each including the ones before it: viewer (read), nurse (also act on escalations), admin (also change
staff, schedules and policies).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.paging import ApiToken

ROLES = ("viewer", "nurse", "admin")
ROLE_RANK = {role: i for i, role in enumerate(ROLES)}
PREFIX = "cl_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession, *, role: str, now: datetime, name: str = "", staff_id: int | None = None
) -> str:
    """Store a new token's hash and return the token (the only time it is seen)."""
    if role not in ROLE_RANK:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=hash_token(token), role=role, name=name, staff_id=staff_id, created_at=now))
    await session.flush()
    return token


async def authenticate(session: AsyncSession, header: str | None, now: datetime) -> ApiToken | None:
    """The token named by an `Authorization: Bearer …` header, if it exists and is not revoked."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = (
        await session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return row


def allows(role: str, needed: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]
