"""The client credentials grant (RFC 6749 section 4.4): the client's own credentials, which
every token request carries, buy it a token.

https://www.rfc-editor.org/rfc/rfc6749#section-4.4
"""

from dataclasses import dataclass
from typing import ClassVar

from callout.runtime.auth.oauth2.grant import Form, Grant


@dataclass(frozen=True, slots=True)
class ClientCredentials(Grant):
    name: ClassVar[str] = "client_credentials"

    def parameters(self) -> Form:
        return [("grant_type", self.name)]  # section 4.4.2
