"""What an admin enters for one Open edX LMS setup (the LMS address itself is the setup's URL)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class OpenEdxSettings(BaseModel):
    """OAuth2 client credentials of an application registered in the LMS's Django admin
    (``/admin/oauth2_provider/application/``, grant type "client credentials"), whose user is global staff."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    client_id: str = Field(min_length=1, max_length=255, title="Client ID",
                           description="OAuth2 client id of the Open edX application")
    client_secret: SecretStr = Field(title="Client secret", description="OAuth2 client secret of that application")

    @field_validator("client_secret")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("enter the client secret")
        return value

    @classmethod
    def of(cls, settings: BaseModel) -> OpenEdxSettings:
        """The settings of an integration context, validated again if the core handed another model."""
        if isinstance(settings, cls):
            return settings
        return cls.model_validate(settings.model_dump())
