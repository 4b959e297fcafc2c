"""The resource owner password credentials grant (RFC 6749 section 4.3): a user's name and
password, stored with the API, buy a token.

https://www.rfc-editor.org/rfc/rfc6749#section-4.3
"""

from dataclasses import dataclass, field
from typing import ClassVar

from callout.runtime.auth.oauth2.grant import Form, Grant


@dataclass(frozen=True, slots=True)
class Password(Grant):
    name: ClassVar[str] = "password"
    username: str
    password: str | None = field(default=None, repr=False)

    def parameters(self) -> Form:
        # section 4.3.2
        return [
            ("grant_type", self.name),
            ("username", self.username),
            ("password", self.password or ""),
        ]
