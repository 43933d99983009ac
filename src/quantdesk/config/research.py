"""Research settings (quantdesk.research), mixed into `Settings`: the optional language model
behind report narratives and the AI chat, and the report job's output folder."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class ResearchSettings(BaseModel):
    # Any OpenAI-compatible chat-completions server: `{url}/chat/completions` is POSTed.
    # Unset: narratives and /ai/chat answer 503 saying so; reports are still made.
    research_llm_url: str | None = None
    research_llm_key: SecretStr | None = None
    research_llm_model: str = "gpt-4o-mini"
    research_llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    research_llm_max_tokens: int = Field(default=700, ge=16, le=8_000)
    # Where the `reports.generate` job writes its files ({symbol}.{format}).
    research_reports_dir: Path = Path("var/reports")
