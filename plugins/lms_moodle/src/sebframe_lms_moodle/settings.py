"""What an admin enters for one Moodle LMS setup (the URL comes from the setup itself)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator


class MoodleSettings(BaseModel):
    """Sign-in to Moodle's web services: a web-service user's name and password, or a pre-created token.

    With a token, sebframe never asks ``/login/token.php`` for one (SEB Server's ``lmsRestApiToken``); with a
    user name and password it requests a token for the web service ``service`` and renews it when Moodle
    reports it invalid.
    """

    username: str = Field("", title="Web-service user name",
                          description="The Moodle user sebframe signs in as (needs the capabilities of the service)")
    password: SecretStr | None = Field(None, title="Password")
    token: SecretStr | None = Field(
        None, title="Web-service token",
        description="A token created in Moodle (Site administration > Server > Web services > Manage tokens), "
                    "used instead of user name and password",
    )
    service: str = Field(
        "", title="Web-service short name",
        description="The external service to request a token for; empty: 'SEB-Server-Webservice' with the "
                    "SEB Server plugin, 'moodle_mobile_app' without",
    )
    prepend_course_short_name: bool = Field(
        True, title="Prefix quiz names with the course short name",
        description="Show quizzes as '<course short name> : <quiz name>', as SEB Server does by default",
    )

    @model_validator(mode="after")
    def _credentials(self) -> MoodleSettings:
        self.username = self.username.strip()
        self.service = self.service.strip()
        if self.has_token:
            return self
        if not self.username or self.password is None or not self.password.get_secret_value():
            raise ValueError("enter the web-service user name and password, or a web-service token")
        return self

    @property
    def has_token(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value().strip())
