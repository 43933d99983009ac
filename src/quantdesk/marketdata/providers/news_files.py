"""News from RSS 2.0 / Atom files on disk: the offline news provider (chain entry `newsfile`).

Reads every `*.xml`, `*.rss` and `*.atom` file under `{dir}/news/` of each configured files
directory (`providers_files_dirs`) and, with `include_demo` (`providers_files_demo`), the news
sample shipped in the package (`quantdesk/marketdata/data/news_sample.xml`: headlines written
for this project about widely reported events of the demo symbols, with example.org links; not
a news wire). Items carry the feed's title as their source; `provider_of(item)` names the file
each came from (`newsfile:news_sample.xml`), which is what the stored rows and `meta.provider`
say.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path

from quantdesk.marketdata.providers.base import DataKind, NewsItem, NewsQuery
from quantdesk.marketdata.providers.errors import ProviderDataNotFound, ProviderNotConfigured
from quantdesk.marketdata.providers.rss import parse_feed

SAMPLE_PACKAGE = "quantdesk.marketdata"
SAMPLE_RESOURCE = "news_sample.xml"
SUFFIXES = (".xml", ".rss", ".atom")
NAME = "newsfile"


def sample_bytes() -> bytes:
    """The shipped news sample (RSS 2.0)."""
    return (files(SAMPLE_PACKAGE) / "data" / SAMPLE_RESOURCE).read_bytes()


def file_provider_label(file_name: str) -> str:
    return f"{NAME}:{file_name}"


def read_news_file(body: bytes, file_name: str) -> list[NewsItem]:
    """One file's items; each item's id is prefixed with the file name so two files' ids
    never collide."""
    return [
        NewsItem(
            id=f"{file_name}#{item.id}",
            title=item.title,
            url=item.url,
            published_at=item.published_at,
            source=item.source,
            summary=item.summary,
            symbols=item.symbols,
        )
        for item in parse_feed(body, source=None)
    ]


def provider_of(item: NewsItem) -> str:
    """`newsfile:<file name>` for an item this provider read (its id says which file)."""
    return file_provider_label(item.id.partition("#")[0])


class NewsFilesProvider:
    def __init__(self, dirs: list[Path], *, include_demo: bool, name: str = NAME) -> None:
        self.name = name
        self.kinds = frozenset({DataKind.NEWS})
        self.dirs = list(dirs)
        self.include_demo = include_demo

    def _read_all(self) -> list[NewsItem]:
        items: list[NewsItem] = []
        for folder in self.dirs:
            news_dir = folder / "news"
            if not news_dir.is_dir():
                continue
            for path in sorted(news_dir.iterdir()):
                if path.suffix.lower() in SUFFIXES and path.is_file():
                    items.extend(read_news_file(path.read_bytes(), path.name))
        if self.include_demo:
            items.extend(read_news_file(sample_bytes(), SAMPLE_RESOURCE))
        return items

    async def fetch_news(self, query: NewsQuery) -> list[NewsItem]:
        if not self.dirs and not self.include_demo:
            raise ProviderNotConfigured(
                "newsfile: no files directory (QUANTDESK_PROVIDERS_FILES_DIRS) and the demo "
                "sample is off (QUANTDESK_PROVIDERS_FILES_DEMO)"
            )
        items = await asyncio.to_thread(self._read_all)
        if not items:
            raise ProviderDataNotFound("newsfile: no news files (put RSS/Atom files under news/)")
        if query.symbol is not None:  # only what the files tagged with it
            wanted = query.symbol.upper()
            items = [item for item in items if wanted in item.symbols]
        items.sort(key=lambda item: item.published_at or 0, reverse=True)
        return items[: query.limit]

    async def aclose(self) -> None:
        return None
