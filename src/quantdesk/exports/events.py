"""`export_ready` (topic `exports.<user_id>`): an export finished and its file can be
downloaded. Emitted in the transaction that marks the export completed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload


def export_topic(user_id: int) -> str:
    return check_topic(f"exports.{user_id}")


@register_payload
@dataclass(frozen=True, slots=True)
class ExportReady:
    """The manifest of a completed export; `url` is its status resource, which hands out a
    fresh signed download link."""

    type_name: ClassVar[str] = "export_ready"

    export_id: str
    user_id: int
    kind: str
    format: str
    rows: int
    bytes: int
    sha256: str
    url: str

    @property
    def topic(self) -> str:
        return export_topic(self.user_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        strings = ("export_id", "kind", "format", "sha256", "url")
        integers = ("user_id", "rows", "bytes")
        for field in strings:
            if not isinstance(data.get(field), str):
                raise ValueError(f"{field}: expected a string")
        for field in integers:
            value = data.get(field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{field}: expected an integer")
        return cls(**{field: data[field] for field in (*strings, *integers)})
