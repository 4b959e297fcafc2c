"""No authorization: the request goes as it is."""

from dataclasses import dataclass
from typing import ClassVar

from callout.runtime.auth.base import Scheme


@dataclass(frozen=True, slots=True)
class NoAuthorization(Scheme):
    type: ClassVar[str] = "none"
