"""The LiveVox platform's own session: relayed from the agent's login, or logged in.

An agent's desktop already holds a session: when the context carries `loginData.sessionId`,
it is sent as the `LV-Session` header. Otherwise (tests, back-office calls) Callout logs in
with `POST {base}/session/login`, header `LV-Access` (the access token) and body
{clientName, userName, password, agent}, and keeps the session id: LiveVox keeps a session
valid while it is used within a rolling 2 hours. A 401 on a session Callout opened logs in
again, once, one login per API at a time.
"""

import json
import time
from typing import Any

from callout.apis.authorization import LiveVoxAuth
from callout.runtime.auth.base import AuthContext
from callout.runtime.auth.tokens import Credential, held_off, note_refusal
from callout.runtime.credential_headers import LV_ACCESS, LV_SESSION
from callout.runtime.errors import AuthError, ParameterError
from callout.runtime.http import Outgoing, Received
from callout.runtime.plan import Plan, join_url
from callout.runtime.templates import FORBIDDEN_IN_HEADER

SESSION_SECONDS = 2 * 60 * 60
# Renew a little early: a session unused for 2 hours is gone on LiveVox's side.
SESSION_MARGIN = 60


async def apply(plan: Plan, outgoing: Outgoing, ctx: AuthContext) -> Outgoing:
    relayed = _relayed(ctx)
    if relayed:
        session = relayed
    else:
        session = await _session(plan, ctx)
    ctx.secrets.append(session)
    ctx.sent = session
    outgoing.set_header(LV_SESSION, session)
    return outgoing


async def renew(plan: Plan, ctx: AuthContext, received: Received) -> bool:
    """A 401 on a session Callout opened: forget it and log in again. The agent's own
    session is the platform's to renew, not Callout's."""
    if received.status != 401 or _relayed(ctx):
        return False
    key = _key(plan)
    current = await ctx.store.get(key)
    if current is not None and current.value == ctx.sent:  # not one another call opened since
        await ctx.store.expire(key, current)
    return True


async def _session(plan: Plan, ctx: AuthContext) -> str:
    key = _key(plan)
    cached = await ctx.store.get(key)
    if cached is None or not cached.usable(time.time()):
        async with ctx.store.flight(key):
            cached = await ctx.store.get(key)
            if cached is None or not cached.usable(time.time()):
                await held_off(ctx.store, key, plan.key.api_version)
                # Stored inside the flight: the calls waiting on it wake up to read it.
                cached = await _login(plan, ctx, key)
                await ctx.store.put(key, cached)
                return cached.value
    # Used now: LiveVox's rolling window starts again.
    await ctx.store.put(key, cached.extended(SESSION_SECONDS - SESSION_MARGIN))
    return cached.value


async def _login(plan: Plan, ctx: AuthContext, key: str) -> Credential:
    auth = plan.authorization
    assert isinstance(auth, LiveVoxAuth)
    if auth.access_token is None:
        raise AuthError("no LiveVox session in loginData.sessionId, and no access token to log in")
    body = {
        "clientName": auth.client_name,
        "userName": auth.user_name,
        "password": auth.password.get_secret_value() if auth.password else "",
        "agent": auth.agent,
    }
    base = plan.origin + plan.base_path
    outgoing = Outgoing(
        "POST",
        join_url(base, "session", "login"),
        [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            (LV_ACCESS, auth.access_token.get_secret_value()),
        ],
        json.dumps(body).encode(),
        secret_body=True,  # the password
    )
    received = await ctx.http.send(outgoing, ctx.remaining())
    ctx.recorder.step("login", "POST session/login", received.status)
    session = _answer(received).get("sessionId")
    if received.status != 200 or not isinstance(session, str) or not session:
        message = f"the LiveVox login was refused (status {received.status})"
        if received.status in (401, 403):  # the credentials, not LiveVox's health
            await note_refusal(ctx.store, key, message)
        raise AuthError(message)
    ctx.secrets.append(session)
    now = time.time()
    window = SESSION_SECONDS - SESSION_MARGIN
    return Credential(session, now, now + window, now + window)


def _relayed(ctx: AuthContext) -> str | None:
    login = ctx.scope.get("loginData")
    session = login.get("sessionId") if isinstance(login, dict) else None
    if isinstance(session, str) and FORBIDDEN_IN_HEADER.search(session):
        raise ParameterError("loginData.sessionId holds a control character")
    return session if isinstance(session, str) and session else None


def _answer(received: Received) -> dict[str, Any]:
    try:
        found = json.loads(received.body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _key(plan: Plan) -> str:
    return plan.key.owner.key("livevox")
