"""Reading a response into outputs: an alert's message reads every output of the response."""

from typing import Any

from callout.runtime.executor import Executor
from tests.runtime.conftest import PlanFactory
from tests.upstream import Upstream

ANSWER = {"customer": {"name": "Ann"}, "overdue": 90, "branch": "Oslo"}


def overdue_alert(message: str) -> dict[str, Any]:
    return {
        "name": "overdue",
        "path": "$.overdue",
        "type": "number",
        "target": "alert",
        "message": message,
    }


async def test_an_alert_reads_an_output_that_fills_a_differently_named_field(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        {"name": "custName", "path": "$.customer.name", "field": "customer_name"},
        overdue_alert("${custName} is ${overdue} days overdue"),
    ]
    upstream.answer(200, ANSWER)

    outcome = await executor.run(on_upstream(outputs=outputs), {"customerId": "7"}, {})

    assert outcome.alerts == ["Ann is 90 days overdue"]
    assert outcome.outputs == {"customer_name": "Ann"}
    assert outcome.warnings == []


async def test_an_alert_reads_an_output_declared_after_it(
    executor: Executor, upstream: Upstream, on_upstream: PlanFactory
) -> None:
    outputs = [
        overdue_alert("Call ${branch} about ${customer_name}"),
        {"name": "custName", "path": "$.customer.name", "field": "customer_name"},
        {"name": "branch", "path": "$.branch"},
    ]
    upstream.answer(200, ANSWER)

    outcome = await executor.run(on_upstream(outputs=outputs), {"customerId": "7"}, {})

    assert outcome.alerts == ["Call Oslo about Ann"]
    assert outcome.warnings == []
