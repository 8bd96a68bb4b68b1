"""``GET /exam-api/discovery``: the endpoint list a SEB client resolves everything else from."""

from __future__ import annotations

from typing import Any

EXAM_API = "/exam-api"
DISCOVERY_PATH = f"{EXAM_API}/discovery"
TOKEN_PATH = "/oauth/token"
HANDSHAKE_PATH = f"{EXAM_API}/v1/handshake"
CONFIG_PATH = f"{EXAM_API}/v1/examconfig"
PING_PATH = f"{EXAM_API}/v1/sebping"
LOG_PATH = f"{EXAM_API}/v1/seblog"

# All five must be present: the Windows client trims every location and fails on a missing one.
_ENDPOINTS = (
    ("access-token-endpoint", "request OAuth2 access token with client credentials grant", TOKEN_PATH, "Basic"),
    ("seb-handshake-endpoint", "endpoint to establish SEB - SEB Server connection", HANDSHAKE_PATH, "Bearer"),
    ("seb-configuration-endpoint",
     "endpoint to get SEB exam configuration in exchange of connection-token and exam identifier",
     CONFIG_PATH, "Bearer"),
    ("seb-ping-endpoint", "endpoint to send pings to while running exam", PING_PATH, "Bearer"),
    ("seb-log-endpoint", "endpoint to send log events to while running exam", LOG_PATH, "Bearer"),
)


def discovery_document(server_location: str) -> dict[str, Any]:
    return {
        "title": "Safe Exam Browser Server / Exam API Description",
        "description": "This is a description of Safe Exam Browser Server's Exam API",
        "server-location": server_location,
        "api-versions": [{
            "name": "v1",
            "endpoints": [{"name": name, "description": description, "location": location,
                           "authorization": authorization}
                          for name, description, location, authorization in _ENDPOINTS],
        }],
    }
