"""What an exam office enters for Jitsi Meet: the deployment and the token claims its Prosody accepts."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import BaseModel, Field, SecretStr, model_validator

SELF_HOSTED = "self_hosted"
JAAS = "jaas"


class JitsiSettings(BaseModel):
    deployment: Literal["self_hosted", "jaas"] = Field(
        default=SELF_HOSTED, title="Deployment",
        description="self_hosted: your Jitsi Meet with token authentication (HS256, Prosody's app_secret); "
                    "jaas: 8x8 Jitsi as a Service (RS256 with an API key)")
    app_id: str = Field(min_length=1, max_length=255, title="App ID",
                        description="self-hosted: Prosody's app_id; JaaS: your AppID (vpaas-magic-cookie-…)")
    app_secret: SecretStr | None = Field(default=None, title="App secret",
                                         description="self-hosted: Prosody's app_secret")
    key_id: str = Field(default="", max_length=255, title="API key id",
                        description="JaaS: the id of the API key whose public key you uploaded")
    private_key: SecretStr | None = Field(default=None, title="API private key (PEM)",
                                          description="JaaS: the RSA private key of that API key")
    issuer: str = Field(default="", max_length=255, title="Token issuer (iss)",
                        description="empty: the App ID (self-hosted), chat (JaaS)")
    audience: str = Field(default="", max_length=255, title="Token audience (aud)",
                          description="empty: jitsi; must be in Prosody's asap_accepted_audiences")
    subject: str = Field(default="", max_length=255, title="Token subject (sub)",
                         description="empty: the meeting server's host (self-hosted), the AppID (JaaS)")

    @model_validator(mode="after")
    def _credentials(self) -> JitsiSettings:
        if self.deployment == SELF_HOSTED:
            if self.app_secret is None or not self.app_secret.get_secret_value():
                raise ValueError("a self-hosted Jitsi needs the app secret")
        else:
            if not self.key_id:
                raise ValueError("JaaS needs the API key id")
            if self.private_key is None or not self.private_key.get_secret_value():
                raise ValueError("JaaS needs the API private key")
            try:
                key = load_pem_private_key(self.private_key.get_secret_value().encode(), password=None)
            except (ValueError, TypeError):
                raise ValueError("the API private key is not an unencrypted PEM private key") from None
            if not isinstance(key, RSAPrivateKey):
                raise ValueError("the API private key must be an RSA key (JaaS signs with RS256)")
        return self
