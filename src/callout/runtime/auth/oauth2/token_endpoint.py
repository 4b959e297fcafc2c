"""The token endpoint (RFC 6749 section 3.2): one token request, whatever the grant.

Every request carries the client's authentication, client_secret_basic or client_secret_post
(section 2.3.1), and, but for a code's exchange, the API's scope, audience and extra
parameters. The answer is a token (section 5.1), with a refresh token or not, or a refusal
(section 5.2) whose code and description the caller's message passes on.

https://www.rfc-editor.org/rfc/rfc6749#section-3.2
"""

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

from yarl import URL

from callout.runtime.auth.base import AuthContext, json_answer
from callout.runtime.auth.tokens import Credential, lifetime
from callout.runtime.http import Outgoing

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TokenRefused(Exception):
    """The token endpoint said no; `error` is its RFC 6749 section 5.2 code, `said` the
    code and its `error_description` ("invalid_client: client_secret_basic is required"),
    which the caller's message passes on: the executor masks every secret in it."""

    def __init__(self, error: str, status: int, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.said = f"{error}: {description}" if description else error


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """Where tokens come from, and what the client sends with every request there."""

    url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_auth: Literal["basic", "post"] = "basic"
    scope: str = ""
    audience: str = ""
    extra_parameters: tuple[tuple[str, str], ...] = ()

    def basic_credentials(self) -> str | None:
        """client_secret_basic (section 2.3.1): each part form-encoded, then Basic; None when
        the client authenticates in the form."""
        if self.client_auth != "basic" or self.client_secret is None:
            return None
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return base64.b64encode(pair.encode()).decode("ascii")

    async def request(
        self,
        ctx: AuthContext,
        form: list[tuple[str, str]],
        used_refresh_token: str | None,
        *,
        scoped: bool = True,
    ) -> Credential:
        """One token request; the answer becomes a credential, a refusal `TokenRefused`."""
        form = list(form)
        if scoped and self.scope:
            form.append(("scope", self.scope))
        if scoped and self.audience:
            form.append(("audience", self.audience))
        form += self.extra_parameters
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ]
        basic = self.basic_credentials()
        if basic is not None:
            headers.append(("Authorization", "Basic " + basic))
        else:
            form.append(("client_id", self.client_id))
            if self.client_secret is not None:
                form.append(("client_secret", self.client_secret))
        # The form is a credential (a secret, a password, a code or a refresh token).
        body = urlencode(form).encode()
        outgoing = Outgoing("POST", str(URL(self.url)), headers, body, secret_body=True)
        received = await ctx.http.send(outgoing, ctx.remaining())
        ctx.recorder.step("token", "POST", urlsplit(self.url).netloc, received.status)
        answer = json_answer(received)
        token = answer.get("access_token")
        if received.status != 200 or not isinstance(token, str) or not token:
            error = _said(answer.get("error"), 100) or "no access_token"  # RFC 6749: a code
            raise TokenRefused(error, received.status, _said(answer.get("error_description"), 300))
        ctx.secrets.append(token)
        obtained = ctx.store.now()
        renew_at, expires_at = lifetime(obtained, _seconds(answer.get("expires_in")))
        refresh_token = answer.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            refresh_token = used_refresh_token
        elif refresh_token != used_refresh_token:
            ctx.secrets.append(refresh_token)
            if ctx.saver is not None:  # rotated (or first issued): keep it, sealed
                await ctx.saver.save_refresh_token(ctx.owner, used_refresh_token, refresh_token)
        return Credential(token, obtained, renew_at, expires_at, refresh_token)


def _said(value: Any, limit: int) -> str:
    """A field of the provider's refusal as one line of text, cut at `limit` characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def _seconds(value: Any) -> float | None:
    """`expires_in` as a number of seconds (some servers send it as a string)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
