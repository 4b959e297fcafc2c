"""The interface every OAuth 2.0 grant implements (RFC 6749 section 4).

A grant is a frozen value holding what it needs, and says

    name                              its `grant_type`
    parameters() -> Form | None       the token request for a new token from the stored
                                      credentials (section 4.x.2); None where only a
                                      refresh token gets this grant one
    missing                           then, why no token can be had without one

Any grant whose API holds a refresh token is refreshed with it first (refresh_token.py).
https://www.rfc-editor.org/rfc/rfc6749#section-4
"""

from dataclasses import dataclass
from typing import ClassVar

Form = list[tuple[str, str]]
REAUTHORIZE = "authorize this API again (POST .../apis/{api}/authorize or `callout authorize`)"


@dataclass(frozen=True, slots=True)
class Grant:
    name: ClassVar[str]
    missing: ClassVar[str] = ""

    def parameters(self) -> Form | None:
        return None
