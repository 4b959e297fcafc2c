"""Authorization at run time: one module per scheme, chosen by the API's authorization type.

A scheme whose proof never changes (Basic; a bearer token with no placeholder) is folded
into the plan as a fixed Authorization header when the plan is compiled
(`runtime/credentials.py`); the schemes below run on each call for the others.
"""

from callout.runtime.auth import bearer, livevox, none, oauth1, oauth2
from callout.runtime.auth.base import Authorizer

AUTHORIZERS: dict[str, Authorizer] = {
    "none": Authorizer(none.apply),
    "bearer": Authorizer(bearer.apply),
    "oauth1": Authorizer(oauth1.apply),
    "oauth2": Authorizer(oauth2.apply, oauth2.renew),
    "livevox": Authorizer(livevox.apply, livevox.renew),
}
