"""Firing a designer's event: what the caller sends (the contact's context) and what the
engine answers: the effects the desktop applies, in order, and how each condition and
action went."""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field

from callout.invocations.schemas import Context, OutcomeName
from callout.schemas import Model


class FireBody(Model):
    context: Context = Field(default_factory=Context)
    mode: Literal["live", "mock"] = Field(
        default="live",
        description="mock answers each FUNCTION CALL from its request's first sample "
        "response instead of calling out.",
    )


class SetField(Model):
    kind: Literal["set_field"] = "set_field"
    field: str
    value: Any


class Alert(Model):
    kind: Literal["alert"] = "alert"
    message: str


class PopUrlEffect(Model):
    kind: Literal["pop_url"] = "pop_url"
    url: str


class ShowPage(Model):
    kind: Literal["show_page"] = "show_page"
    page: str


class LoadComponent(Model):
    kind: Literal["load_component"] = "load_component"
    page: str
    component: str


Effect = Annotated[
    SetField | Alert | PopUrlEffect | ShowPage | LoadComponent, Discriminator("kind")
]


class ConditionTrace(Model):
    position: int = Field(description="The condition's place in the event, from 0.")
    state: Literal["held", "not_held", "stopped", "not_reached"] = Field(
        description="stopped: its Stop flag is set; not_reached: an action before it stopped "
        "the event, or the deadline passed."
    )


class ActionTrace(Model):
    condition: int
    action: int
    kind: str
    outcome: OutcomeName
    reason: str | None = None
    message: str | None = None
    duration_ms: float
    invocation_id: str | None = None


FireOutcome = Literal["completed", "stopped", "deadline"]


class FireResult(Model):
    designer_id: int
    event: str
    outcome: FireOutcome = Field(
        description="stopped: a failed action said stop; deadline: the fire's deadline passed."
    )
    effects: list[Effect]
    conditions: list[ConditionTrace]
    actions: list[ActionTrace]
    fields: dict[str, Any] = Field(description="The data fields after the event.")
    responses: dict[str, dict[str, Any]] = Field(
        description="Each called request's outputs, by request name."
    )
    duration_ms: float
