"""Password policy and hashing (Argon2id through pwdlib).

The policy runs before hashing, so an over-long password is a fast, clear 422 and never a slow
hash. Common passwords come from the 30,000-entry list that zxcvbn ships.

A hash costs ~100 ms of CPU: request handlers use `hash_password_async` and
`verify_password_async`, which run it in a worker thread (Argon2 releases the GIL), at most one
per CPU at a time, so sign-ins never stall the event loop (and every other request with it).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import lru_cache

from anyio import CapacityLimiter, to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from quantdesk.errors import Unprocessable, field_error

MIN_LENGTH = 12
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))  # pwdlib's Argon2Hasher is Argon2id


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


class WeakPassword(Unprocessable):
    code = "weak-password"

    def __init__(self, rule: str, message: str, field: str = "password") -> None:
        super().__init__(message, errors=[field_error(["body", field], message, kind=rule)])
        self.rule = rule


def check_policy(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Raise WeakPassword naming the first rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword("too_short", f"password must be at least {MIN_LENGTH} characters", field)
    if len(password) > MAX_LENGTH:
        raise WeakPassword("too_long", f"password must be at most {MAX_LENGTH} characters", field)
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        raise WeakPassword("common", "password is too common or repetitive; choose another", field)
    if email and email.split("@", 1)[0].lower() in lowered and len(email.split("@", 1)[0]) >= 4:
        raise WeakPassword("contains_email", "password must not contain your email name", field)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    if len(password) > MAX_LENGTH:  # never hash unbounded input
        return False
    return _hasher().verify(password, password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the email is unknown, so both failures cost the same time."""
    return hash_password("quantdesk-timing-equalizer-0")


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hashing_slots() -> int:
    """Hashes running at once per process: one per CPU (more would only queue in the CPU)."""
    return max(1, os.cpu_count() or 1)


def _limiter() -> CapacityLimiter:
    # One per event loop: a limiter belongs to the loop it was first used on.
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(hashing_slots())
    return limiter


async def hash_password_async(password: str) -> str:
    return await to_thread.run_sync(hash_password, password, limiter=_limiter())


async def verify_password_async(password: str, password_hash: str) -> bool:
    return await to_thread.run_sync(verify_password, password, password_hash, limiter=_limiter())


async def dummy_hash_async() -> str:
    return await to_thread.run_sync(dummy_hash, limiter=_limiter())
