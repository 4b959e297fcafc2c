"""The types an API can be: a plain word list importing nothing, so that `callout apis create
--type` is typed with it without loading the schemas."""

from typing import Literal

ApiType = Literal["api", "slack", "teams"]
