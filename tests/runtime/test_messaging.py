"""Slack and Teams APIs at run time against webhooks on loopback that check a message as the
providers do: Slack's incoming webhook (200 `ok`, or an error string such as
`invalid_payload`, `channel_not_found`, `action_prohibited`, `channel_is_archived`), a Teams
incoming webhook (an Office 365 connector: 200 `1`, a text error, or a refusal wrapped in a
200) and a Teams workflow (202). Messages built from templates, parameters and the context;
hostile values that must leave the payload valid JSON; each provider answer concluded as a
success or as a failure that quotes it."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from callout.apis import catalog
from callout.apis.request_service import check_message
from callout.apis.schemas import RequestWrite
from callout.db.models import Api
from callout.invocations.compile import compile_plan
from callout.runtime.executor import Executor, Outcome
from callout.runtime.plan import Plan
from callout.schemas import MASK
from tests.loopback import LoopbackServer
from tests.runtime.conftest import KEY, api_def, compile_from

# Slack: T (team) / B (webhook) / secret, as in hooks.slack.com/services/T.../B.../...
SLACK_HOOK = {"teamId": "T0CALLOUT", "botId": "B0ESCALATE", "token": "hk9Qx2vLr7sWm4TzYc1Ne8Pa"}
TEAMS_HOOK = "3f0e7c5a-2b1d-4e8f-9a6c-d4b2e1f0a9c8@8d7c6b5a-4f3e-2d1c-0b9a-8e7f6d5c4b3a"
TEAMS_SIGNATURE = "Qm9fZ3xkYWIxLWFjY2VzcwSig"
WORKFLOW_ID = "6a1f0c2e9b8d4e7fa3c5d2b1e0f9a8c7"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
BAD_PAYLOAD = "Bad payload received by generic incoming webhook."
# Teams' own refusal, as an Office 365 connector reports it inside a 200
# (MicrosoftDocs/msteams-docs#1810, #7425: "we return 200 OK as soon as we get the post").
WRAPPED = (
    "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP "
    "error {status} with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,"
    "cv=5f0e9d8c7b6a.0.."
)
TEAMS_MAX_BYTES = 28 * 1024  # Teams' message size limit


@dataclass
class Posted:
    """One message as the webhook received it, and how it answered."""

    path: str
    content_type: str
    body: bytes = field(repr=False)
    status: int = 0
    answer: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


class Webhook(LoopbackServer):
    """An aiohttp server on loopback that records each post and answers through `judge`."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.override: tuple[int, str] | None = None  # the next answer, whatever was sent

    def only(self) -> Posted:
        assert len(self.posted) == 1, self.posted
        return self.posted[0]

    def judge(self, request: web.Request, posted: Posted) -> tuple[int, str]:
        raise NotImplementedError

    async def _handle(self, request: web.Request) -> web.Response:
        posted = Posted(request.raw_path, request.headers.get("Content-Type", ""), b"")
        posted.body = await request.read()
        self.posted.append(posted)
        if self.override is not None:
            (posted.status, posted.answer), self.override = self.override, None
        else:
            posted.status, posted.answer = self.judge(request, posted)
        return web.Response(status=posted.status, text=posted.answer)

    def route(self, app: web.Application) -> None:
        app.router.add_post("/{tail:.*}", self._handle)


class SlackWebhook(Webhook):
    """Slack's incoming webhook: POST /services/{team}/{bot}/{token} with a JSON object.

    200 `ok` when it has a non-empty `text` or non-empty `blocks`; 400 `invalid_payload`
    when the body is not a JSON object or `text`/`blocks` have the wrong shape, 400
    `invalid_blocks` for a block without a `type`, 400 `no_text` when there is nothing to
    show; 403 `invalid_token` for a wrong secret, 404 `no_service` for an unknown webhook.
    `channel` stands for the channel's state: "open", or the error Slack answers for it.
    """

    CHANNEL_ERRORS = {
        "channel_not_found": 404,
        "channel_is_archived": 410,
        "action_prohibited": 403,
    }

    def __init__(self) -> None:
        super().__init__()
        self.channel = "open"

    def judge(self, request: web.Request, posted: Posted) -> tuple[int, str]:
        team, bot, token = SLACK_HOOK.values()
        if request.path != f"/services/{team}/{bot}/{token}":
            if request.path.startswith(f"/services/{team}/{bot}/"):
                return 403, "invalid_token"
            return 404, "no_service"
        if not posted.content_type.startswith("application/json"):
            return 400, "invalid_payload"
        try:
            message = posted.json()
        except ValueError:
            return 400, "invalid_payload"
        if not isinstance(message, dict):
            return 400, "invalid_payload"
        text, blocks = message.get("text"), message.get("blocks")
        if (text is not None and not isinstance(text, str)) or (
            blocks is not None and not isinstance(blocks, list)
        ):
            return 400, "invalid_payload"
        if blocks and not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
        ):
            return 400, "invalid_blocks"
        if not text and not blocks:
            return 400, "no_text"
        if self.channel != "open":
            return self.CHANNEL_ERRORS[self.channel], self.channel
        return 200, "ok"


class TeamsWebhook(Webhook):
    """A Teams incoming webhook (Office 365 connector) and a Teams workflow.

    POST /webhookb2/{id}/IncomingWebhook/{hook}: a MessageCard with a `text` or `summary`,
    or a "message" whose attachments are all Adaptive Cards, answers 200 `1`; a MessageCard
    with neither answers 400 "Summary or Text is required."; anything else 400 with
    BAD_PAYLOAD. Teams' own refusals come back wrapped in a 200 (WRAPPED): a message over
    28 KB (413) and, once `throttled` is "wrapped", rate limiting (429); `throttled` =
    "status" answers a plain 429 instead.

    POST /workflows/{id}/triggers/manual/paths/invoke?...&sig=...: 202 with no body once the
    signature matches (the workflow runs later), 401 otherwise.
    """

    def __init__(self) -> None:
        super().__init__()
        self.throttled: str | None = None  # None, "status" or "wrapped"

    def judge(self, request: web.Request, posted: Posted) -> tuple[int, str]:
        if request.path == f"/workflows/{WORKFLOW_ID}/triggers/manual/paths/invoke":
            if request.query.get("sig") != TEAMS_SIGNATURE:
                return 401, '{"error":{"code":"DirectApiAuthorizationRequired"}}'
            return 202, ""
        if request.path != f"/webhookb2/{TEAMS_HOOK}/IncomingWebhook/hook1":
            return 404, "Webhook not found"
        try:
            message = posted.json()
        except ValueError:
            return 400, BAD_PAYLOAD
        if not isinstance(message, dict):
            return 400, BAD_PAYLOAD
        if message.get("@type") == "MessageCard":
            if not (message.get("text") or message.get("summary")):
                return 400, "Summary or Text is required."
        elif not _adaptive_message(message):
            return 400, BAD_PAYLOAD
        if len(posted.body) > TEAMS_MAX_BYTES:
            return 200, WRAPPED.format(status=413)
        if self.throttled == "status":
            return 429, "Microsoft Teams endpoint returned HTTP error 429"
        if self.throttled == "wrapped":
            return 200, WRAPPED.format(status=429)
        return 200, "1"


def _adaptive_message(message: dict[str, Any]) -> bool:
    attachments = message.get("attachments")
    return (
        message.get("type") == "message"
        and isinstance(attachments, list)
        and bool(attachments)
        and all(
            isinstance(a, dict)
            and a.get("contentType") == ADAPTIVE
            and isinstance(a.get("content"), dict)
            and a["content"].get("type") == "AdaptiveCard"
            for a in attachments
        )
    )


@pytest.fixture
async def slack() -> AsyncIterator[SlackWebhook]:
    async with SlackWebhook() as server:
        yield server


@pytest.fixture
async def teams() -> AsyncIterator[TeamsWebhook]:
    async with TeamsWebhook() as server:
        yield server


def message_plan(kind: str, base_url: str, request: dict[str, Any]) -> Plan:
    """A plan for a message request under a `kind` (slack or teams) API, the request checked
    first by the rule the service applies when it is saved (a POST of a JSON message)."""
    check_message(Api(type=kind), RequestWrite.model_validate(request))
    return compile_from(api_def(name=f"{kind} channel", base_url=base_url, type=kind), request)


def string_parameters(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "type": "string", "required": True} for name in names]


def slack_plan(
    slack: SlackWebhook, message: dict[str, Any], parameters: list[dict[str, Any]] | None = None
) -> Plan:
    """`POST {slack}/services/${teamId}/${botId}/${token}` with `message` as the body
    template, like the catalogue's Slack incoming webhook."""
    request = {
        "name": "Post message",
        "method": "POST",
        "endpoint_path": "${teamId}/${botId}/${token}",
        "content_type": "json",
        "body": json.dumps(message),
        "parameters": [*string_parameters(*SLACK_HOOK), *(parameters or [])],
        "success_statuses": [200],
        "outputs": [{"name": "response", "source": "body", "path": ""}],
    }
    return message_plan("slack", f"{slack.url}/services", request)


def teams_plan(
    teams: TeamsWebhook, message: dict[str, Any], parameters: list[dict[str, Any]] | None = None
) -> Plan:
    """`POST {teams}/webhookb2/{hook}/IncomingWebhook/hook1` with `message` as the body."""
    request = {
        "name": "Post card",
        "method": "POST",
        "url_path": f"webhookb2/{TEAMS_HOOK}",
        "endpoint_path": "IncomingWebhook/hook1",
        "content_type": "json",
        "body": json.dumps(message),
        "parameters": parameters or [],
    }
    return message_plan("teams", teams.url, request)


SLACK_ESCALATION = {
    "text": "Caller ${call.ani} asked for a supervisor: ${reason}",
    "blocks": [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Escalation* from ${call.ani} (${account.name})"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "${reason}"}]},
    ],
    "unfurl_links": False,
}
CALL = {"call": {"ani": "+15551234567"}, "account": {"name": "Ann Smith"}}
MESSAGE_CARD = {
    "@type": "MessageCard",
    "@context": "https://schema.org/extensions",
    "summary": "${title}",
    "title": "${title}",
    "text": "Caller ${call.ani}: ${text}",
}
ADAPTIVE_CARD = {
    "type": "message",
    "attachments": [
        {
            "contentType": ADAPTIVE,
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "${title}", "weight": "Bolder", "wrap": True},
                    {"type": "TextBlock", "text": "Caller ${call.ani}: ${text}", "wrap": True},
                ],
            },
        }
    ],
}
CARD = {"title": "Escalation", "text": "asked for a supervisor"}
CARDS = [pytest.param(MESSAGE_CARD, id="MessageCard"), pytest.param(ADAPTIVE_CARD, id="Adaptive")]


def failed_with(outcome: Outcome, status: int, message: str) -> None:
    assert (outcome.outcome, outcome.reason, outcome.status) == ("failure", "status", status)
    assert outcome.message == message


# Slack


async def test_a_slack_message_is_posted_from_its_template_and_ok_is_a_success(
    executor: Executor, slack: SlackWebhook
) -> None:
    plan = slack_plan(slack, SLACK_ESCALATION, string_parameters("reason"))

    outcome = await executor.run(plan, SLACK_HOOK | {"reason": "billing dispute"}, CALL)

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    assert outcome.outputs == {"response": "ok"}
    posted = slack.only()
    assert posted.content_type == "application/json"
    assert posted.json() == {
        "text": "Caller +15551234567 asked for a supervisor: billing dispute",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Escalation* from +15551234567 (Ann Smith)"},
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "billing dispute"}]},
        ],
        "unfurl_links": False,
    }


async def test_slack_blocks_given_whole_as_a_parameter_are_posted_as_json(
    executor: Executor, slack: SlackWebhook
) -> None:
    # `"${blocks}"` alone in a value places the parameter's JSON, not its text.
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "Promise to pay"}}]
    plan = slack_plan(slack, {"blocks": "${blocks}"}, [{"name": "blocks", "type": "object"}])

    outcome = await executor.run(plan, SLACK_HOOK | {"blocks": blocks}, {})

    assert outcome.outcome == "success", outcome.message
    assert slack.only().json() == {"blocks": blocks}


# A message template, its one parameter's type, and the value a script gives it: placed
# whole, so a script can send what Slack refuses.
TEXT = ({"text": "${text}"}, "string")
TEXT_AS_NUMBER = ({"text": "${text}"}, "number")
BLOCKS = ({"blocks": "${blocks}"}, "object")
FINE = {"text": "Caller asked for a supervisor"}


def refusal(
    template: tuple[dict[str, Any], str], values: dict[str, Any], status: int, error: str
) -> Any:
    """A case Slack refuses with `error`: a channel state of that name, or what is sent."""
    channel = error if error in SlackWebhook.CHANNEL_ERRORS else "open"
    return pytest.param(template, values, channel, status, error, id=error)


SLACK_REFUSALS = [
    refusal(TEXT, {"text": ""}, 400, "no_text"),
    refusal(TEXT_AS_NUMBER, {"text": 42}, 400, "invalid_payload"),
    refusal(BLOCKS, {"blocks": [{"text": "no type"}]}, 400, "invalid_blocks"),
    refusal(TEXT, FINE | {"token": "revoked"}, 403, "invalid_token"),
    refusal(TEXT, FINE | {"botId": "B0GONE"}, 404, "no_service"),
    refusal(TEXT, FINE, 403, "action_prohibited"),
    refusal(TEXT, FINE, 404, "channel_not_found"),
    refusal(TEXT, FINE, 410, "channel_is_archived"),
]


@pytest.mark.parametrize(("template", "values", "channel", "status", "error"), SLACK_REFUSALS)
async def test_each_slack_error_is_a_status_failure_quoting_slack(
    executor: Executor,
    slack: SlackWebhook,
    template: tuple[dict[str, Any], str],
    values: dict[str, Any],
    channel: str,
    status: int,
    error: str,
) -> None:
    message, kind = template
    name = next(iter(message))
    plan = slack_plan(slack, message, [{"name": name, "type": kind}])
    slack.channel = channel

    outcome = await executor.run(plan, SLACK_HOOK | values, {})

    failed_with(outcome, status, f"Slack answered {status}: {error}")
    assert slack.only().answer == error


@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        pytest.param("", "(an empty body)", id="empty"),
        pytest.param("error", "error", id="error"),
        pytest.param('{"ok": false}', '{"ok": false}', id="json"),
        pytest.param("<html>Maintenance</html>", "<html>Maintenance</html>", id="html"),
    ],
)
async def test_a_slack_200_whose_body_is_not_ok_is_a_failure(
    executor: Executor, slack: SlackWebhook, body: str, quoted: str
) -> None:
    # Only `ok` says Slack took the message; a proxy or portal in the way answers 200 too.
    slack.override = (200, body)
    plan = slack_plan(slack, SLACK_ESCALATION, string_parameters("reason"))

    outcome = await executor.run(plan, SLACK_HOOK | {"reason": "r"}, CALL)

    failed_with(outcome, 200, f"Slack answered 200: {quoted}")


async def test_a_slack_ok_with_a_trailing_newline_is_a_success(
    executor: Executor, slack: SlackWebhook
) -> None:
    slack.override = (200, "ok\n")
    plan = slack_plan(slack, SLACK_ESCALATION, string_parameters("reason"))

    outcome = await executor.run(plan, SLACK_HOOK | {"reason": "r"}, CALL)

    assert outcome.outcome == "success", outcome.message


# Teams


@pytest.mark.parametrize("card", CARDS)
async def test_a_teams_card_is_posted_from_its_template_and_1_is_a_success(
    executor: Executor, teams: TeamsWebhook, card: dict[str, Any]
) -> None:
    plan = teams_plan(teams, card, string_parameters("title", "text"))

    outcome = await executor.run(plan, CARD, CALL)

    assert (outcome.outcome, outcome.status) == ("success", 200), outcome.message
    posted = teams.only()
    assert (posted.status, posted.answer) == (200, "1")
    assert posted.content_type == "application/json"
    sent = posted.json()
    if card is MESSAGE_CARD:
        assert sent == MESSAGE_CARD | {
            "summary": "Escalation",
            "title": "Escalation",
            "text": "Caller +15551234567: asked for a supervisor",
        }
    else:
        texts = [block["text"] for block in sent["attachments"][0]["content"]["body"]]
        assert texts == ["Escalation", "Caller +15551234567: asked for a supervisor"]
        assert sent["attachments"][0]["contentUrl"] is None


async def test_a_teams_workflow_that_accepts_with_202_and_no_body_is_a_success(
    executor: Executor, teams: TeamsWebhook
) -> None:
    # The catalogue's Teams API posts to a workflow, which answers 202 and runs later.
    request = {
        "name": "Post card",
        "method": "POST",
        "endpoint_path": f"workflows/{WORKFLOW_ID}/triggers/manual/paths/invoke",
        "query": [
            {"name": "api-version", "value": "1"},
            {"name": "sp", "value": "/triggers/manual/run"},
            {"name": "sv", "value": "1.0"},
            {"name": "sig", "value": "${signature}"},
        ],
        "content_type": "json",
        "body": json.dumps(ADAPTIVE_CARD),
        "parameters": string_parameters("signature", "title", "text"),
    }
    plan = message_plan("teams", teams.url, request)

    outcome = await executor.run(plan, CARD | {"signature": TEAMS_SIGNATURE}, CALL)

    assert (outcome.outcome, outcome.status) == ("success", 202), outcome.message
    assert teams.only().status == 202


async def test_a_message_card_without_text_or_summary_is_a_failure_quoting_teams(
    executor: Executor, teams: TeamsWebhook
) -> None:
    card = {"@type": "MessageCard", "summary": "${title}", "text": "${text}"}
    plan = teams_plan(teams, card, string_parameters("title", "text"))

    outcome = await executor.run(plan, {"title": "", "text": ""}, {})

    failed_with(outcome, 400, "Teams answered 400: Summary or Text is required.")


async def test_an_adaptive_message_whose_card_is_not_one_is_a_failure_quoting_teams(
    executor: Executor, teams: TeamsWebhook
) -> None:
    message = {"type": "message", "attachments": [{"contentType": ADAPTIVE, "content": "${card}"}]}
    plan = teams_plan(teams, message, [{"name": "card", "type": "object"}])

    outcome = await executor.run(plan, {"card": {"type": "TextBlock", "text": "hi"}}, {})

    failed_with(outcome, 400, f"Teams answered 400: {BAD_PAYLOAD}")


async def test_a_teams_429_is_a_failure_quoting_teams_and_is_not_posted_twice(
    executor: Executor, teams: TeamsWebhook
) -> None:
    # A POST without an Idempotency-Key is never sent again: the card could show twice.
    teams.throttled = "status"
    plan = teams_plan(teams, MESSAGE_CARD, string_parameters("title", "text"))

    outcome = await executor.run(plan, CARD, CALL)

    throttled = "Microsoft Teams endpoint returned HTTP error 429"
    failed_with(outcome, 429, f"Teams answered 429: {throttled}")
    assert len(teams.posted) == 1


async def test_a_teams_refusal_wrapped_in_a_200_is_a_failure_quoting_it(
    executor: Executor, teams: TeamsWebhook
) -> None:
    # A connector answers 200 at once and reports Teams' own refusal in the body.
    teams.throttled = "wrapped"
    plan = teams_plan(teams, MESSAGE_CARD, string_parameters("title", "text"))

    outcome = await executor.run(plan, CARD, CALL)

    failed_with(outcome, 200, f"Teams answered 200: {WRAPPED.format(status=429)}")


async def test_a_teams_message_over_its_size_limit_is_a_failure(
    executor: Executor, teams: TeamsWebhook
) -> None:
    plan = teams_plan(teams, MESSAGE_CARD, string_parameters("title", "text"))

    outcome = await executor.run(plan, CARD | {"text": "x" * TEAMS_MAX_BYTES}, CALL)

    failed_with(outcome, 200, f"Teams answered 200: {WRAPPED.format(status=413)}")


# Hostile values


HOSTILE = {
    "quotes": "He said \"stop\" and 'no'",
    "backslashes": "C:\\temp\\new\\ \\u0041 \\",
    "newlines": "line 1\nline 2\r\nline 3\ttabbed",
    "json-breakout": '", "channel": "#general", "x": "',
    "braces": "} ] { [ }}",
    "placeholder-text": "${call.ani} $${x} ${",
    "controls": "\x00\x01\x1f\x7f",
    "unicode": "é ß 中文 עברית \u2028\u2029 😀",
    "html": "<script>alert(1)</script> &amp;",
    "long": "y" * 5000,
}
HOSTILE_PARAMS = [pytest.param(value, id=name) for name, value in HOSTILE.items()]


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
async def test_a_hostile_value_stays_inside_its_string_in_a_slack_message(
    executor: Executor, slack: SlackWebhook, value: str
) -> None:
    plan = slack_plan(slack, SLACK_ESCALATION, string_parameters("reason"))

    outcome = await executor.run(plan, SLACK_HOOK | {"reason": value}, CALL)

    # Slack parsed it (or it would have said invalid_payload) and found it where it was put.
    assert outcome.outcome == "success", outcome.message
    sent = slack.only().json()
    assert sent["text"] == f"Caller +15551234567 asked for a supervisor: {value}"
    assert sent["blocks"][1]["elements"][0]["text"] == value
    assert set(sent) == {"text", "blocks", "unfurl_links"}


@pytest.mark.parametrize("value", HOSTILE_PARAMS)
@pytest.mark.parametrize("card", CARDS)
async def test_a_hostile_value_stays_inside_its_string_in_a_teams_card(
    executor: Executor, teams: TeamsWebhook, card: dict[str, Any], value: str
) -> None:
    plan = teams_plan(teams, card, string_parameters("title", "text"))

    outcome = await executor.run(plan, {"title": value, "text": value}, {"call": {"ani": value}})

    assert outcome.outcome == "success", outcome.message
    sent = teams.only().json()
    if card is MESSAGE_CARD:
        assert (sent["title"], sent["text"]) == (value, f"Caller {value}: {value}")
        assert set(sent) == set(MESSAGE_CARD)
    else:
        texts = [block["text"] for block in sent["attachments"][0]["content"]["body"]]
        assert texts == [value, f"Caller {value}: {value}"]


# The catalogue's webhook APIs: the secret part of a webhook URL is a secret parameter


def catalog_plan(slug: str, base_url: str, **request_changes: Any) -> Plan:
    """The catalogue entry `slug`'s first request, on `base_url` instead of the provider's."""
    [entry] = [entry for entry in catalog.load() if entry.slug == slug]
    api = entry.api.model_copy(update={"base_url": base_url})
    return compile_plan(KEY, api, entry.requests[0].model_copy(update=request_changes))


async def test_the_catalogue_slack_token_is_sent_and_masked_in_the_trace(
    executor: Executor, slack: SlackWebhook
) -> None:
    plan = catalog_plan("slack-incoming-webhook", f"{slack.url}/services")
    token = SLACK_HOOK["token"]

    sent = await executor.run(plan, SLACK_HOOK | {"text": "hello"}, {}, trace=True)
    slack.override = (403, f"invalid_token {token}")  # a peer that quotes what it was sent
    refused = await executor.run(plan, SLACK_HOOK | {"text": "hello"}, {}, trace=True)
    dry = await executor.run(plan, SLACK_HOOK | {"text": "hello"}, {}, mode="dry_run")

    assert (sent.outcome, sent.status) == ("success", 200), sent.message
    assert slack.posted[0].path.endswith(f"/{token}")  # it went out in full
    assert sent.request is not None
    assert sent.request.url.endswith(f"/{MASK}")
    assert refused.message == f"Slack answered 403: invalid_token {MASK}"
    for outcome in (sent, refused, dry):
        assert token not in repr(outcome)


async def test_the_catalogue_teams_signature_is_sent_and_masked_in_the_trace(
    executor: Executor, teams: TeamsWebhook
) -> None:
    # A workflow URL without /powerautomate/automations/direct, as older ones are.
    plan = catalog_plan("teams-incoming-webhook", teams.url, url_path="")
    parameters = CARD | {"workflowId": WORKFLOW_ID, "signature": TEAMS_SIGNATURE}

    sent = await executor.run(plan, parameters, {}, trace=True)
    dry = await executor.run(plan, parameters, {}, mode="dry_run")

    assert (sent.outcome, sent.status) == ("success", 202), sent.message
    assert f"sig={TEAMS_SIGNATURE}" in teams.only().path
    assert dry.request is not None
    assert dry.request.url.endswith(f"sig={MASK}")
    for outcome in (sent, dry):
        assert TEAMS_SIGNATURE not in repr(outcome)
