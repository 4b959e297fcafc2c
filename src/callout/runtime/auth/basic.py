"""HTTP Basic authorization (RFC 7617): `Authorization: Basic base64(user ":" password)`.

The proof never changes, so the plan sends it as a fixed header and nothing runs per call.
"""

import base64
from dataclasses import dataclass, field
from typing import ClassVar

from callout.runtime.auth.base import Scheme


@dataclass(frozen=True, slots=True)
class Basic(Scheme):
    type: ClassVar[str] = "basic"
    username: str
    password: str | None = field(default=None, repr=False)

    def credentials(self) -> str:
        """RFC 7617 section 2: base64 of `user ":" password`, in UTF-8 (section 2.1)."""
        return base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode("ascii")

    def fixed(self) -> str:
        return "Basic " + self.credentials()

    def encoded_secrets(self) -> tuple[str, ...]:
        return (self.credentials(),)
