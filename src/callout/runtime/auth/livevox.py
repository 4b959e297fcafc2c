"""The LiveVox platform's own session: relayed from the agent's login, or logged in.

An agent's desktop already holds a session: when the context carries `loginData.sessionId`,
it is sent as the `LV-Session` header. Otherwise (tests, back-office calls) Callout logs in
with `POST {base}/session/login`, header `LV-Access` (the access token) and body
{clientName, userName, password, agent}, and keeps the session id: LiveVox keeps a session
valid while it is used within a rolling 2 hours. A 401 on a session Callout opened logs in
again, once, one login per API at a time.
"""

import json
from dataclasses import dataclass, field
from typing import ClassVar

from callout.runtime.auth.base import AuthContext, Scheme, expire_sent, json_answer
from callout.runtime.auth.tokens import Credential, held_off, note_refusal
from callout.runtime.credential_headers import LV_ACCESS, LV_SESSION
from callout.runtime.errors import AuthError, ParameterError
from callout.runtime.http import Outgoing, Received
from callout.runtime.plan import join_url
from callout.runtime.templates import FORBIDDEN_IN_HEADER

SESSION_SECONDS = 2 * 60 * 60
# Renew a little early: a session unused for 2 hours is gone on LiveVox's side.
SESSION_MARGIN = 60
NOTED_EVERY = 60  # seconds between two notes that a session was used
SCHEME = "livevox"


@dataclass(frozen=True, slots=True)
class LiveVox(Scheme):
    type: ClassVar[str] = SCHEME
    base_url: str  # the API's: logins go to {base_url}/session/login
    access_token: str | None = field(default=None, repr=False)
    client_name: str = ""
    user_name: str = ""
    password: str | None = field(default=None, repr=False)
    agent: bool = False

    async def apply(self, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
        relayed = _relayed(ctx)
        if relayed:
            session = relayed
        else:
            session = await self._session(ctx)
        ctx.secrets.append(session)
        ctx.sent = session
        outgoing.set_header(LV_SESSION, session)
        return outgoing

    async def expire_refused(self, ctx: AuthContext, received: Received) -> bool:
        """A 401 on a session Callout opened: forget it and log in again. The agent's own
        session is the platform's to renew, not Callout's."""
        if received.status != 401 or _relayed(ctx):
            return False
        await expire_sent(ctx, ctx.owner.key(SCHEME))
        return True

    async def _session(self, ctx: AuthContext) -> str:
        key = ctx.owner.key(SCHEME)
        cached = await ctx.store.get(key)
        if cached is None or not cached.usable(ctx.store.now()):
            async with ctx.store.flight(key):
                cached = await ctx.store.get(key)
                if cached is None or not cached.usable(ctx.store.now()):
                    await held_off(ctx.store, key, ctx.owner.api_version)
                    # Stored inside the flight: the calls waiting on it wake up to read it.
                    cached = await self._login(ctx, key)
                    await ctx.store.put(key, cached)
                    return cached.value
        # Used now: LiveVox's rolling window starts again. Noted at most once a minute (a
        # write to a shared store per call would double its round trips): the window kept
        # here then ends at most a minute before LiveVox's own, within SESSION_MARGIN.
        now, window = ctx.store.now(), SESSION_SECONDS - SESSION_MARGIN
        if cached.expires_at - now < window - NOTED_EVERY:
            await ctx.store.put(key, cached.extended(now, window))
        return cached.value

    async def _login(self, ctx: AuthContext, key: str) -> Credential:
        if self.access_token is None:
            raise AuthError(
                "no LiveVox session in loginData.sessionId, and no access token to log in"
            )
        body = {
            "clientName": self.client_name,
            "userName": self.user_name,
            "password": self.password or "",
            "agent": self.agent,
        }
        outgoing = Outgoing(
            "POST",
            join_url(self.base_url, "session", "login"),
            [
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
                (LV_ACCESS, self.access_token),
            ],
            json.dumps(body).encode(),
            secret_body=True,  # the password
        )
        received = await ctx.http.send(outgoing, ctx.remaining())
        ctx.recorder.step("login", "POST session/login", received.status)
        session = json_answer(received).get("sessionId")
        if received.status != 200 or not isinstance(session, str) or not session:
            message = f"the LiveVox login was refused (status {received.status})"
            if received.status in (401, 403):  # the credentials, not LiveVox's health
                await note_refusal(ctx.store, key, message)
            raise AuthError(message)
        ctx.secrets.append(session)
        now = ctx.store.now()
        window = SESSION_SECONDS - SESSION_MARGIN
        return Credential(session, now, now + window, now + window)


def _relayed(ctx: AuthContext) -> str | None:
    login = ctx.scope.get("loginData")
    session = login.get("sessionId") if isinstance(login, dict) else None
    if isinstance(session, str) and FORBIDDEN_IN_HEADER.search(session):
        raise ParameterError("loginData.sessionId holds a control character")
    return session if isinstance(session, str) and session else None
