"""LiveVox's Session API on loopback, as its documentation describes it (the catalogue's
`livevox-session.yaml` links the pages).

    async with LiveVoxServer() as livevox:
        livevox.base_url              # http://127.0.0.1:PORT/livevox ("livevox" in the URL,
                                      # which Callout requires of a LiveVox API)
        livevox.logins                # each POST session/login as received, with its status
        livevox.open_session()        # a session opened elsewhere: the agent's own desktop
        livevox.expire(session)       # the session ends on LiveVox's side
        livevox.refuse(2)             # the next 2 resource requests answer 401, whatever
        livevox.resource_requests     # the session each resource request carried, its status

`POST {base}/session/login` takes the access token in `LV-Access` (only the login needs it)
and {clientName, userName, password, agent}; it answers 200 {sessionId, userId, clientId,
daysUntilPasswordExpires}, and the same sessionId while a valid one exists for that user and
token. A missing or unknown access token is refused with 403, wrong credentials with 401.
`GET {base}/session/validate/{id}` answers 204 or 401 and `DELETE {base}/session/logout/{id}`
ends a session. Every other path under the base is a protected resource: 401 without a live
`LV-Session`, else 200 with JSON; a path ending in `echo` answers with the session it was
sent and every header, as a careless upstream might.

LiveVox ends a session unused for two hours or when the password changes; `expire` stands
for either. The server logs nothing.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer

ACCESS_TOKEN = "lv-access-3f9c2e7a51b04d86"
CLIENT_NAME = "ACME"
USER_NAME = "api.user"
PASSWORD = "s3cret pass/with:odd+chars"
AGENT_NAME = "Agent007"
AGENT_PASSWORD = "agent-pass-9911"


@dataclass
class Login:
    """One login request as received; `body` holds the password, `headers` the token."""

    headers: dict[str, str] = field(repr=False)
    body: dict[str, Any] = field(repr=False)
    status: int = 0


@dataclass
class ResourceRequest:
    """One request to a protected resource: the session it carried and the answer."""

    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    session: str | None = field(repr=False)
    status: int = 0


@dataclass
class _Session:
    user: tuple[str, str, bool]  # (clientName, userName, agent)
    access_token: str = field(repr=False)
    alive: bool = True


@dataclass
class _User:
    user_id: int
    password: str = field(repr=False)


class LiveVoxServer(LoopbackServer):
    def __init__(self, login_delay: float = 0.0) -> None:
        # Agent names ignore case, user names do not (the Session API's login page).
        self.users: dict[tuple[str, str, bool], _User] = {
            (CLIENT_NAME, USER_NAME, False): _User(501, PASSWORD),
            (CLIENT_NAME, AGENT_NAME.lower(), True): _User(1007, AGENT_PASSWORD),
        }
        self.access_tokens = {ACCESS_TOKEN}
        self.login_delay = login_delay  # holds each login back: concurrent calls overlap
        self.logins: list[Login] = []
        self.resource_requests: list[ResourceRequest] = []
        self.sessions: dict[str, _Session] = {}
        self.down = False  # logins answer 503, whatever they carry
        self._refusals = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}/livevox"

    @property
    def accepted_logins(self) -> int:
        return sum(1 for login in self.logins if login.status == 200)

    def sessions_sent(self) -> list[str | None]:
        return [seen.session for seen in self.resource_requests]

    def open_session(self, user: str = AGENT_NAME, agent: bool = True) -> str:
        """A live session opened outside Callout: the agent's own, from the desktop login."""
        return self._open((CLIENT_NAME, user.lower() if agent else user, agent), ACCESS_TOKEN)

    def expire(self, session: str) -> None:
        """The session ends on LiveVox's side (two hours unused, or a new password)."""
        self.sessions[session].alive = False

    def refuse(self, count: int) -> None:
        """The next `count` resource requests answer 401 whatever session they carry."""
        self._refusals = count

    def _open(self, user: tuple[str, str, bool], token: str) -> str:
        for session, state in self.sessions.items():
            if state.alive and state.user == user and state.access_token == token:
                return session  # LiveVox returns the same session while one is valid
        session = str(uuid.uuid4())
        self.sessions[session] = _Session(user, token)
        return session

    def _live(self, session: str | None) -> _Session | None:
        state = self.sessions.get(session or "")
        return state if state is not None and state.alive else None

    async def _login(self, request: web.Request) -> web.Response:
        login = Login(dict(request.headers), {})
        self.logins.append(login)
        if self.login_delay:
            await asyncio.sleep(self.login_delay)
        if self.down:
            return self._error(login, 503, "The service is down for maintenance")
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error(login, 400, "The request body is not valid JSON")
        login.body = body
        token = request.headers.get("LV-Access", "")
        if token not in self.access_tokens:
            return self._error(login, 403, "The access token is missing or not valid")
        agent = body.get("agent") is True
        name = str(body.get("userName", ""))
        user = (str(body.get("clientName", "")), name.lower() if agent else name, agent)
        known = self.users.get(user)
        if known is None or body.get("password") != known.password:
            return self._error(login, 401, "Invalid client name, user name or password")
        login.status = 200
        return web.json_response(
            {
                "sessionId": self._open(user, token),
                "userId": known.user_id,
                "clientId": 42,
                "daysUntilPasswordExpires": 30,
            }
        )

    async def _validate(self, request: web.Request) -> web.Response:
        live = self._live(request.match_info["session"])
        return web.Response(status=204 if live else 401)

    async def _logout(self, request: web.Request) -> web.Response:
        live = self._live(request.match_info["session"])
        if live is None:
            return web.Response(status=401)
        live.alive = False
        return web.Response(status=204)

    async def _resource(self, request: web.Request) -> web.Response:
        session = request.headers.get("LV-Session")
        seen = ResourceRequest(request.method, request.raw_path, dict(request.headers), session)
        self.resource_requests.append(seen)
        await request.read()
        if self._refusals:
            self._refusals -= 1
            seen.status = 401
        elif self._live(session) is None:
            seen.status = 401
        if seen.status == 401:
            return web.json_response({"code": 401, "message": "Invalid session"}, status=401)
        seen.status = 200
        if request.raw_path.endswith("echo"):
            return web.json_response({"session": session, "headers": seen.headers})
        return web.json_response({"path": request.raw_path, "ok": True})

    @staticmethod
    def _error(login: Login, status: int, message: str) -> web.Response:
        login.status = status
        return web.json_response({"code": status, "message": message}, status=status)

    def route(self, app: web.Application) -> None:
        app.router.add_post("/livevox/session/login", self._login)
        app.router.add_get("/livevox/session/validate/{session}", self._validate)
        app.router.add_delete("/livevox/session/logout/{session}", self._logout)
        app.router.add_route("*", "/livevox/{tail:.+}", self._resource)
