"""The real OpenID Provider of the sign-in tests: `tests/js/oidc_provider.mjs` (the npm `oidc-provider`).

    async with OidcProvider.start({"clients": [...], "accounts": {...}}) as provider:
        issuer = await provider.listening()         # http://127.0.0.1:<free port>
        await provider.set_account("alice", {...})  # change what the provider says about alice

The spec is documented in the script. Closing the context (or `stop()`) stops the provider.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.js_clients import JS_DIR, StompClient, require_node_clients

OIDC_PROVIDER = JS_DIR / "oidc_provider.mjs"


def require_oidc_provider() -> str:
    """Like `require_node_clients`, for the `oidc-provider` package."""
    node = require_node_clients()
    if not (JS_DIR / "node_modules" / "oidc-provider").is_dir():
        reason = "tests/js/node_modules lacks oidc-provider: run `source scripts/lib/node.sh && ensure_node_clients`"
        pytest.skip(reason)
    return node


class OidcProvider(StompClient):
    """One `oidc_provider.mjs` process: it prints its issuer once listening and takes account changes."""

    @staticmethod
    def script() -> tuple[str, Path]:
        return require_oidc_provider(), OIDC_PROVIDER

    async def listening(self) -> str:
        """The issuer URL, once the provider listens (call once)."""
        return (await self.expect("listening"))["issuer"]

    async def set_account(self, login: str, claims: dict) -> None:
        await self.command(op="account", login=login, claims=claims)
        assert (await self.expect("account"))["login"] == login

    async def stop(self) -> None:
        """Stops the provider now: its port closes, as a provider that went down."""
        assert await self.finish() == 0, await self.stderr()
