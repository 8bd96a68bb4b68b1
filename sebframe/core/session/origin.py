"""Where an Exam API request came from: the client address resolved through the trusted proxies, and what
the admission checks and their audit records need to know about the request."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.net import ResolvedAddress


@dataclass(frozen=True, slots=True)
class Origin:
    resolved: ResolvedAddress
    user_agent: str = ""
    request_line: str = ""  # method and path, never the query (it may carry secrets)

    @property
    def address(self) -> str | None:
        return self.resolved.client

    @classmethod
    def of_address(cls, address: str | None) -> Origin:
        """An origin known only by its address (server-side callers and tests)."""
        return cls(ResolvedAddress(client=address, peer=address, chain=""))
