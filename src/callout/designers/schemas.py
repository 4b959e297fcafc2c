"""Designers (an agent desktop's script) as the REST API, the CLI and the UI write and read
them; what firing one of their events answers is in `effects.py`.

A designer is saved whole, as one document: its pages, and its events with their conditions
and actions. Every rule that needs no database is kept here (names unique, pages and
components referred to exist, conditions parse, POP URLs are absolute http(s)); the rules
that do (an API and request exist and are visible, required parameters are mapped) are kept
by the service.
"""

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from callout.apis.fields import Identifier, Writable, check_http_url
from callout.apis.schemas import CONTEXT_ROOTS
from callout.designers import conditions
from callout.runtime import templates
from callout.schemas import (
    Description,
    Id,
    Model,
    Name,
    field_error,
    field_errors,
    name_key,
    no_control,
)

# The platform's system events, spelt as its desktop shows them.
SYSTEM_EVENTS = ("Login", "Log off", "Ready", "Not Ready", "In Call", "Wrap-Up", "Disposition")
_SYSTEM_EVENT_KEYS = {name_key(name): name for name in SYSTEM_EVENTS}

ComponentKind = Literal[
    "label",
    "text",
    "text_area",
    "dropdown",
    "checkbox",
    "radio",
    "date",
    "button",
    "grid",
    "browser",
]
OnError = Literal["continue", "stop"]
DESIGNER_READ_ONLY = frozenset({"id", "version", "created_at", "updated_at"})

Loc = tuple[str | int, ...]


def _unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name_key(name) in seen:
            raise ValueError(f"{what} {name!r} is named twice")
        seen.add(name_key(name))


class Component(Model):
    """A control on a page; `fields` are the data fields it shows."""

    name: Name
    kind: ComponentKind = "text"
    fields: Annotated[list[Identifier], Field(max_length=100)] = []


class Page(Model):
    name: Name
    components: Annotated[list[Component], Field(max_length=200)] = []

    @field_validator("components")
    @classmethod
    def _unique_components(cls, value: list[Component]) -> list[Component]:
        _unique((c.name for c in value), "component")
        return value


def _context_path(value: str) -> str:
    """A context path as a placeholder holds it (`call.ani`, `responses.Get agent.id`),
    starting at one of the context's roots."""
    try:
        (placeholder,) = templates.placeholders("${" + value + "}")
    except (templates.TemplateError, ValueError):
        raise ValueError(
            "must be a path into the context, such as call.ani or responses.Lookup.id"
        ) from None
    if placeholder.root not in CONTEXT_ROOTS:
        raise ValueError(f"must start with one of {', '.join(sorted(CONTEXT_ROOTS))}")
    return value


# Where a condition's or a POP URL's `${...}` may read: a designer has no parameters.
IN_CONTEXT = "each ${path} must start with one of " + ", ".join(sorted(CONTEXT_ROOTS))


def _in_context(paths: Iterable[templates.Placeholder]) -> bool:
    return all(path.root in CONTEXT_ROOTS for path in paths)


def outside_context(expression: str) -> tuple[int, int] | None:
    """The line and column of a parsed condition's first `${path}` that reads outside the
    context (`${cal.ani}`), if one does."""
    for placeholder, line, column in conditions.paths_at(expression):
        if placeholder.root not in CONTEXT_ROOTS:
            return line, column
    return None


ContextPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ParameterMapping(Model):
    """Where a FUNCTION CALL's request parameter gets its value: a context `path`, or a
    literal `value` (exactly one of the two; a read shows the other as null, and is taken
    back as it is)."""

    name: Identifier
    path: ContextPath | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> "ParameterMapping":
        given = self.model_fields_set & {"path", "value"}
        if self.path is not None and self.value is not None:
            raise field_error("value", "give a path or a value, not both")
        if self.path is None and "value" not in given:
            raise field_error("path", "give a context path or a literal value")
        if self.path is not None:
            try:
                _context_path(self.path)
            except ValueError as error:
                raise field_error("path", str(error)) from None
        return self


class ActionBase(Model):
    on_error: OnError = Field(
        default="stop", description="What a failure does to the event's remaining actions."
    )


class FunctionCall(ActionBase):
    """Call a request of an API in the client's library (or of a system API)."""

    kind: Literal["function_call"] = "function_call"
    api_id: Id
    request_id: Id
    parameters: Annotated[list[ParameterMapping], Field(max_length=100)] = []

    @field_validator("parameters")
    @classmethod
    def _unique_parameters(cls, value: list[ParameterMapping]) -> list[ParameterMapping]:
        _unique((m.name for m in value), "parameter")
        return value


# The origin a POP URL starts with: scheme, `://` and the authority, up to the first `/`,
# `?` or `#`, or the end.
ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _pop_url(value: str) -> str:
    """An absolute http(s) URL template whose origin is fixed: placeholders may fill its
    path, query and fragment, never decide where it leads."""
    no_control(value)
    try:
        parts = templates.parse(value)
    except templates.TemplateError as error:
        raise ValueError(str(error)) from None
    head = parts[0] if parts and isinstance(parts[0], str) else ""
    origin = ORIGIN.match(head)
    if origin is None or (len(parts) > 1 and origin.end() == len(head)):
        raise ValueError("must start with a fixed scheme and host, e.g. https://crm.example/")
    check_http_url(origin.group(0) + "/")
    return value


PopUrlTemplate = Annotated[str, StringConstraints(strip_whitespace=True, max_length=8192)]


class PopUrl(ActionBase):
    """Open a URL in a new tab of the agent's desktop; `${...}` placeholders fill it."""

    kind: Literal["pop_url"] = "pop_url"
    url: PopUrlTemplate

    @field_validator("url")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _pop_url(value)


class PageTransition(ActionBase):
    kind: Literal["page_transition"] = "page_transition"
    page: Name


class ComponentLoad(ActionBase):
    kind: Literal["component_load"] = "component_load"
    page: Name
    component: Name


Action = Annotated[FunctionCall | PopUrl | PageTransition | ComponentLoad, Discriminator("kind")]
ACTION_KINDS = frozenset(
    kind.model_fields["kind"].default
    for kind in (FunctionCall, PopUrl, PageTransition, ComponentLoad)
)


Expression = Annotated[str, StringConstraints(max_length=conditions.MAX_LENGTH)]


class EventCondition(Model):
    """A guard over the context and the actions it runs when it holds; `stop` disables it."""

    expression: Expression = Field(
        default="", description="Empty always holds. See the condition grammar."
    )
    stop: bool = False
    actions: Annotated[list[Action], Field(max_length=50)] = []

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            conditions.parse(value)
        except conditions.ConditionError as error:
            raise ValueError(str(error)) from None
        return value


class Event(Model):
    """A SYSTEM event (named for its type: Login, In Call...) or a USER event, raised by a
    component of its source page."""

    type: Literal["system", "user"]
    name: Name
    page: Name = Field(description="The source page.")
    component: Name | None = Field(default=None, description="A user event's component.")
    conditions: Annotated[list[EventCondition], Field(max_length=100)] = []

    @model_validator(mode="after")
    def _rules(self) -> "Event":
        if self.type == "system":
            spelt = _SYSTEM_EVENT_KEYS.get(name_key(self.name))
            if spelt is None:
                raise field_error("name", f"a system event is one of {', '.join(SYSTEM_EVENTS)}")
            self.name = spelt
            if self.component is not None:
                raise field_error("component", "a system event is raised by no component")
        elif self.component is None:
            raise field_error("component", "a user event names the component that raises it")
        return self

    def actions(self) -> Iterator[tuple[Loc, Action]]:
        """Each action with where it sits in the event."""
        for c, condition in enumerate(self.conditions):
            for a, action in enumerate(condition.actions):
                yield ("conditions", c, "actions", a), action


class DesignerFields(Model):
    name: Name
    description: Description = ""
    service_id: Id | None = None
    pages: Annotated[list[Page], Field(max_length=100)] = []
    events: Annotated[list[Event], Field(max_length=100)] = []

    @field_validator("pages")
    @classmethod
    def _unique_pages(cls, value: list[Page]) -> list[Page]:
        _unique((p.name for p in value), "page")
        return value

    @field_validator("events")
    @classmethod
    def _unique_events(cls, value: list[Event]) -> list[Event]:
        _unique((e.name for e in value), "event")
        return value

    @model_validator(mode="after")
    def _pages_exist(self) -> "DesignerFields":
        """Every page and component an event or action names is on this designer."""
        components = {
            name_key(p.name): {name_key(c.name) for c in p.components} for p in self.pages
        }
        for e, event in enumerate(self.events):
            at: Loc = ("events", e)
            _check_page(components, at, event.page, event.component)
            for loc, action in event.actions():
                if isinstance(action, PageTransition):
                    _check_page(components, at + loc, action.page, None)
                elif isinstance(action, ComponentLoad):
                    _check_page(components, at + loc, action.page, action.component)
        return self


def _check_page(pages: dict[str, set[str]], at: Loc, page: str, component: str | None) -> None:
    if name_key(page) not in pages:
        raise field_error((*at, "page"), f"there is no page {page!r}")
    if component is not None and name_key(component) not in pages[name_key(page)]:
        raise field_error((*at, "component"), f"page {page!r} has no component {component!r}")


class DesignerWrite(DesignerFields, Writable):
    read_only = DESIGNER_READ_ONLY

    @model_validator(mode="after")
    def _paths_in_context(self) -> "DesignerWrite":
        """Every `${...}` of a condition or a POP URL reads the context: `${cal.ani}` would
        read nothing on every fire, unnoticed. A rule of saves only, so that a designer
        stored before it still reads and fires."""
        problems: list[tuple[Loc, str]] = []
        for e, event in enumerate(self.events):
            for c, condition in enumerate(event.conditions):
                if outside_context(condition.expression) is not None:
                    problems.append((("events", e, "conditions", c, "expression"), IN_CONTEXT))
            for loc, action in event.actions():
                if isinstance(action, PopUrl):
                    parts = templates.parse(action.url)
                    if not _in_context(p for p in parts if isinstance(p, templates.Placeholder)):
                        problems.append((("events", e, *loc, "url"), IN_CONTEXT))
        if problems:
            raise field_errors(problems)
        return self


class ConditionCheck(Model):
    expression: Expression


class ConditionVerdict(Model):
    """What a save would say of a condition: valid, or why not and where (1-based)."""

    valid: bool
    message: str | None = None
    line: int | None = None
    column: int | None = None


class DesignerRead(DesignerFields):
    id: int
    version: int
    created_at: datetime
    updated_at: datetime


class DesignerSummary(Model):
    """One line of the designer list."""

    id: int
    name: str
    description: str
    service_id: int | None
    events: list[str] = Field(description="The events' names.")
    version: int
    updated_at: datetime


class Usage(Model):
    """One FUNCTION CALL of a designer's event that uses an API's request."""

    designer_id: int
    designer_name: str
    event: str
    request_id: int
    parameters: list[str] = Field(description="The request parameters it maps.")
