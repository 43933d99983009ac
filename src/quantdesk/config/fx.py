"""FX settings (quantdesk.marketdata.fx and the BAM provider), mixed into `Settings`."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr


class FxSettings(BaseModel):
    # Bank Al-Maghrib's API (MAD rates): the "Marché des changes" subscription key. Without
    # it the `bam` provider reports itself not configured and `fx.fetch_bam` is skipped.
    bam_api_key: SecretStr | None = None
    bam_base_url: str = "https://api.centralbankofmorocco.ma/"
