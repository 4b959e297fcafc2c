"""Finding an API or a request by the name a person typed: what "did you mean" offers."""

import pytest

from callout.apis.definitions import did_you_mean

NAMES = ["Get customer", "Get agent", "Find customer", "Post disposition"]


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("Post dispositon", "; did you mean 'Post disposition'?"),
        ("GET AGNT", "; did you mean 'Get agent'?"),  # case ignored, as names are compared
        ("get custmer", "; did you mean 'Get customer' or 'Find customer'?"),
        ("customer", "; did you mean 'Get customer' or 'Find customer'?"),  # held in a name
        ("post", "; did you mean 'Post disposition'?"),
        ("zzz", ""),
        ("  ", ""),
        ("x" * 10_000, ""),  # longer than any name: not compared at all
    ],
)
def test_did_you_mean_offers_close_names_or_names_holding_the_one_typed(
    typed: str, offered: str
) -> None:
    assert did_you_mean(typed, NAMES) == offered


def test_did_you_mean_offers_three_names_at_most() -> None:
    names = [f"Customer {n}" for n in range(10)]

    assert did_you_mean("customer", names).count("'") == 6
