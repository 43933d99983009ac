"""/admin/cache (system:admin): statistics and tag flushes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from quantdesk.auth.dependencies import SystemAdmin
from quantdesk.infra.cache.dependencies import CacheDep

router = APIRouter(prefix="/admin/cache", tags=["admin"])


class CategoryStatsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ttl_seconds: float
    stale_ttl_seconds: float
    hits: int
    misses: int
    stale: int
    size: int | None = Field(description="Live entries; null while the backend is unreachable")


class CacheStatsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    backend: str
    enabled: bool
    shared: bool = Field(description="Entries shared by every process (Redis)")
    degraded: bool = Field(description="Redis unreachable: every lookup is a miss")
    categories: dict[str, CategoryStatsRead]


class CacheFlushRead(BaseModel):
    tag: str
    invalidated: int


@router.get("", summary="Hits, misses, stale answers and size per category (this process)")
async def cache_stats(_: SystemAdmin, cache: CacheDep) -> CacheStatsRead:
    return CacheStatsRead.model_validate(await cache.stats())


@router.delete(
    "",
    summary="Drop every entry carrying a tag (e.g. quotes:AAPL, category:news)",
)
async def flush_tag(
    _: SystemAdmin,
    cache: CacheDep,
    tag: Annotated[str, Query(min_length=1, max_length=200)],
) -> CacheFlushRead:
    return CacheFlushRead(tag=tag, invalidated=await cache.invalidate_tag(tag))
