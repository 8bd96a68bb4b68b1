"""The SEB client Exam API, wire-compatible with SEB Server (``reference/seb-client-protocol.md``).

A plain ASGI callable in front of the Starlette application: it owns ``/exam-api/**`` and
``/oauth/token`` and answers them without middleware, form or model parsing beyond what the protocol needs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable

from sebframe.api.exam.discovery import (
    CONFIG_PATH,
    DISCOVERY_PATH,
    EXAM_API,
    HANDSHAKE_PATH,
    LOG_PATH,
    PING_PATH,
    TOKEN_PATH,
    discovery_document,
)
from sebframe.api.exam.wire import (
    JSON_UTF8,
    OCTETS,
    BodyTooLarge,
    Disconnected,
    Receive,
    Scope,
    Send,
    form_params,
    header,
    read_body,
    respond,
    respond_json,
    string_headers,
)
from sebframe.core.net import ResolvedAddress, resolve
from sebframe.core.services import Services
from sebframe.core.session.errors import AdmissionRefused, ExamApiError
from sebframe.core.session.events import parse_event
from sebframe.core.session.origin import Origin
from sebframe.core.session.text import client_text
from sebframe.core.session.tokens import TokenGrant

log = logging.getLogger(__name__)

BENCH_PATH = "/bench/bare"
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
NO_CACHE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


def is_exam_api_path(path: str) -> bool:
    return path.startswith(EXAM_API) or path == TOKEN_PATH


class ExamApi:
    def __init__(self, services: Services, *, bench_endpoint: bool = False) -> None:
        self.services = services
        self.runtime = services.sessions.runtime
        self.tokens = services.sessions.tokens
        self.handshakes = services.sessions.handshakes
        self.proxy_policy = services.settings.proxy_policy
        self.external_url = services.settings.external_url
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", DISCOVERY_PATH): self.discovery,
            ("POST", TOKEN_PATH): self.token,
            ("POST", HANDSHAKE_PATH): self.handshake_create,
            ("PATCH", HANDSHAKE_PATH): self.handshake_update,
            ("PUT", HANDSHAKE_PATH): self.handshake_establish,
            ("DELETE", HANDSHAKE_PATH): self.handshake_close,
            ("GET", CONFIG_PATH): self.exam_config,
            ("POST", PING_PATH): self.ping,
            ("POST", LOG_PATH): self.log,
        }
        if bench_endpoint:
            self.routes[("POST", BENCH_PATH)] = self.bare
        self.paths = {path for _, path in self.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get((scope["method"], scope["path"]))
        if handler is None:
            if scope["path"] in self.paths:
                await respond_json(send, 405, [_message("1010", "Illegal API request argument",
                                                        f"method {scope['method']} not allowed")])
            else:
                await respond_json(send, 404, [_message("1002", "resource not found", scope["path"][:200])])
            return
        try:
            await handler(scope, receive, send)
        except BodyTooLarge:
            await respond_json(send, 413, [_message("1010", "Illegal API request argument",
                                                    "request body too large")])
        except Disconnected:
            return
        except ExamApiError as error:
            await respond(send, error.status, error.body(), JSON_UTF8)
        except AdmissionRefused as refused:
            await respond(send, 403, refused.body(), JSON_UTF8)
        except Exception:
            log.exception("Exam API %s %s failed", scope["method"], scope["path"])
            await respond_json(send, 500, [_message("1100", "Unexpected internal server-side error", "")])

    # -- discovery and token -------------------------------------------------------------------------

    async def discovery(self, scope: Scope, receive: Receive, send: Send) -> None:
        await respond_json(send, 200, discovery_document(self._server_location(scope)))

    async def token(self, scope: Scope, receive: Receive, send: Send) -> None:
        """OAuth2 client credentials with HTTP Basic, as Spring Security OAuth2 answers them."""
        body = await read_body(receive)
        credentials = _basic_credentials(header(scope, b"authorization"))
        if credentials is None:
            await respond_json(send, 401, {"error": "unauthorized",
                                           "error_description": "Full authentication is required to access "
                                                                "this resource"},
                               headers=[(b"www-authenticate", b'Basic realm="oauth2/client"')])
            return
        access = await self.services.connection_configs.verify_client(*credentials)
        if access is None:
            await respond_json(send, 401, {"error": "unauthorized", "error_description": "Bad credentials"},
                               headers=[(b"www-authenticate", b'Basic realm="oauth2/client"')])
            return
        params = form_params(scope, body)
        grant_type = params.get("grant_type", "").strip()
        if not grant_type:
            await respond_json(send, 400, {"error": "invalid_request", "error_description": "Missing grant type"})
            return
        if grant_type != "client_credentials":
            await respond_json(send, 401, {"error": "invalid_client",
                                           "error_description": f"Unauthorized grant type: {grant_type[:64]}"})
            return
        scope_text = " ".join(sorted(set(params.get("scope", "").split())))[:255]
        if not scope_text:
            await respond_json(send, 400, {"error": "invalid_scope",
                                           "error_description": "Empty scope (either the client or the user is "
                                                                "not allowed the requested scopes)"})
            return
        issued = await self.tokens.issue(access, scope_text)
        await respond_json(send, 200, {"access_token": issued.value, "token_type": "bearer",
                                       "expires_in": issued.expires_in, "scope": issued.scope,
                                       "jti": str(uuid.uuid4())},
                           content_type=JSON_UTF8, headers=NO_CACHE)

    # -- handshake -----------------------------------------------------------------------------------

    async def handshake_create(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant = await self._grant(scope, send)
        if grant is None:
            return
        params = form_params(scope, await read_body(receive))
        created = await self.handshakes.create(grant, params, self._origin(scope))
        await respond_json(send, 200, created.exams, headers=string_headers({
            "SEBConnectionToken": created.token, "SEBExamSalt": created.salt,
            "SEBServerBEK": created.browser_exam_key}))

    async def handshake_update(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant, token = await self._grant_and_token(scope, send)
        if grant is None or token is None:
            return
        params = form_params(scope, await read_body(receive))
        headers = await self.handshakes.update(grant, token, params, self._origin(scope))
        await respond(send, 200, headers=string_headers({"SEBExamSalt": headers.salt,
                                                         "SEBServerBEK": headers.browser_exam_key}))

    async def handshake_establish(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant, token = await self._grant_and_token(scope, send)
        if grant is None or token is None:
            return
        params = form_params(scope, await read_body(receive))  # the Windows client often sends no body
        headers = await self.handshakes.establish(grant, token, params, self._origin(scope))
        await respond(send, 200, headers=string_headers({"SEBServerBEK": headers.browser_exam_key}))

    async def handshake_close(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant, token = await self._grant_and_token(scope, send)
        if grant is None or token is None:
            return
        await read_body(receive)  # "delete=true", ignored as by SEB Server
        await self.handshakes.close(grant, token)
        await respond(send, 200)

    async def exam_config(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant, token = await self._grant_and_token(scope, send)
        if grant is None or token is None:
            return
        params = form_params(scope, await read_body(receive))
        try:
            data = await self.handshakes.exam_config(grant, token, params, self._origin(scope))
        except ExamApiError as error:
            # SEB Server answers every failure of this endpoint with 500.
            await respond(send, 500, error.body(), JSON_UTF8)
            return
        await respond(send, 200, data, OCTETS)

    # -- ping and log --------------------------------------------------------------------------------

    async def ping(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No database I/O unless the token is new to this process; 204, or 200 with an instruction."""
        grant = await self._grant(scope, send)
        if grant is None:
            return
        body = await read_body(receive)
        token = header(scope, b"sebconnectiontoken")
        connection = await self.runtime.connection(token) if token else None
        if connection is None or connection.institution_id != grant.institution_id:
            await respond(send, 204)  # unknown tokens get 204, never an error: the client would retry
            return
        confirm = form_params(scope, body).get("instruction-confirm") if b"instruction-confirm" in body else None
        resolved = self._resolved(scope)
        address = resolved.client
        if address and address != connection.client_address:
            self.runtime.address_changed(connection, address, self._origin(scope, resolved))
        instruction = self.runtime.ping(connection, confirm)
        if instruction is None:
            await respond(send, 204)
        else:
            await respond(send, 200, instruction, JSON_UTF8)

    async def log(self, scope: Scope, receive: Receive, send: Send) -> None:
        """204 once the event is stored (or dropped: unknown token, unparseable body); 400 in SEB Server's error
        shape for the rare value the database still refuses (the other events of its batch are stored)."""
        grant, token = await self._grant_and_token(scope, send)
        if grant is None or token is None:
            return
        body = await read_body(receive)
        connection = await self.runtime.connection(token)
        event = parse_event(body) if connection is not None else None
        if event is not None and connection is not None and connection.institution_id == grant.institution_id:
            await self.runtime.log(connection, event)
        await respond(send, 204)

    async def bare(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The benchmark's baseline: same server stack and request, no work."""
        await read_body(receive)
        await respond(send, 204)

    # -- shared --------------------------------------------------------------------------------------

    async def _grant(self, scope: Scope, send: Send) -> TokenGrant | None:
        authorization = header(scope, b"authorization")
        if authorization is None or not authorization[:7].lower() == "bearer ":
            await respond_json(send, 401, {"error": "unauthorized",
                                           "error_description": "Full authentication is required to access "
                                                                "this resource"},
                               headers=[(b"www-authenticate", b'Bearer realm="oauth2-resource"')])
            return None
        grant = await self.tokens.verify(authorization[7:].strip())
        if grant is None:
            # The client fetches a new token and retries exactly when it reads error == invalid_token.
            await respond_json(send, 401, {"error": "invalid_token",
                                           "error_description": "Invalid access token"},
                               headers=[(b"www-authenticate",
                                         b'Bearer realm="oauth2-resource", error="invalid_token", '
                                         b'error_description="Invalid access token"')])
        return grant

    async def _grant_and_token(self, scope: Scope, send: Send) -> tuple[TokenGrant | None, str | None]:
        grant = await self._grant(scope, send)
        if grant is None:
            return None, None
        token = header(scope, b"sebconnectiontoken")
        if not token or not token.strip():
            await respond_json(send, 400, [_message("1010", "Illegal API request argument",
                                                    "Missing request header 'SEBConnectionToken'")])
            return grant, None
        return grant, client_text(token.strip())

    def _origin(self, scope: Scope, resolved: ResolvedAddress | None = None) -> Origin:
        """The request as the admission checks see it (address, user agent, method and path of a route); the
        headers' raw text made storable, as the location audit keeps it."""
        resolved = resolved or self._resolved(scope)
        if resolved.chain:
            resolved = dataclasses.replace(resolved, chain=client_text(resolved.chain))
        return Origin(resolved, client_text(header(scope, b"user-agent") or ""), f"{scope['method']} {scope['path']}")

    def _resolved(self, scope: Scope) -> ResolvedAddress:
        """The client address with the peer and forwarding chain it was resolved from (for the location audit)."""
        client = scope.get("client")
        return resolve(client[0] if client else None, scope["headers"], self.proxy_policy)

    def _server_location(self, scope: Scope) -> str:
        if self.external_url:
            return self.external_url
        host = header(scope, b"host") or "localhost"
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"


def _message(code: str, system_message: str, details: str) -> dict[str, object]:
    return {"messageCode": code, "systemMessage": system_message, "details": details, "attributes": []}


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, separator, secret = client_text(decoded).partition(":")
    return (client_id, secret) if separator and client_id else None
