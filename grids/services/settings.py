"""Settings of the service network: slot length, booking horizon, the media directory.

Composed into `geo_api.settings.Settings` as `services`; the media directory
defaults to ``$WANGGE_HOME/media`` (resolved against the database settings' home).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServicesSettings(BaseSettings):
    """How appointments are cut and documents kept (`WANGGE_SERVICES_*`)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_SERVICES_", extra="ignore")

    slot_minutes: int = Field(default=30, ge=5, le=240, description="Length of one slot.")
    booking_days: int = Field(
        default=14, ge=1, le=60, description="How many days ahead slots can be booked."
    )
    media_dir: Path | None = Field(
        default=None, description="Where documents are stored; unset = $WANGGE_HOME/media."
    )
    document_retention_days: int = Field(
        default=3 * 365, ge=1, le=30 * 365, description="How long a stored document is kept."
    )
    max_document_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest document accepted."
    )

    def media_root(self, home: Path) -> Path:
        """The media directory: the setting, else `home`/media."""
        return self.media_dir if self.media_dir is not None else home / "media"
