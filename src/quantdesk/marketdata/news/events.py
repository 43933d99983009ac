"""The `news` event: one per newly stored item and tagged symbol, on topic `news.<SYMBOL>`
(`news._` for an item about no stored symbol), emitted in the storing transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload
from quantdesk.kit.timeutil import iso_z
from quantdesk.models import NewsArticle

UNTAGGED = "_"


@register_payload
@dataclass(frozen=True, slots=True)
class NewsPublished:
    type_name: ClassVar[str] = "news"

    news_id: int
    symbol: str  # the topic's symbol, `_` for an untagged item
    symbols: list[str]
    title: str
    url: str | None
    source: str
    provider: str
    published_at: str
    sentiment_label: str | None
    sentiment_score: float | None

    @property
    def topic(self) -> str:
        return check_topic(f"news.{self.symbol}")

    @classmethod
    def of(cls, item: NewsArticle) -> list[NewsPublished]:
        """One event per tagged symbol (one on `news._` when there is none)."""
        return [
            cls(
                news_id=item.id,
                symbol=symbol,
                symbols=list(item.symbols),
                title=item.title,
                url=item.url,
                source=item.source,
                provider=item.provider,
                published_at=iso_z(item.published_at),
                sentiment_label=item.sentiment_label,
                sentiment_score=item.sentiment_score,
            )
            for symbol in (item.symbols or [UNTAGGED])
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        names = [field.name for field in fields(cls)]  # not the ClassVar type_name
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"{missing[0]}: missing")
        return cls(**{name: data[name] for name in names})
