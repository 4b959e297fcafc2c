"""Authorization at run time: one module per scheme, chosen by the API's authorization type.

A scheme whose proof never changes (Basic; a bearer token with no placeholder) is folded
into the plan as a fixed Authorization header when the plan is compiled
(`runtime/credentials.py`); `apply` runs on each call for the others.
"""

from callout.runtime.auth import bearer, none
from callout.runtime.auth.base import Apply

SCHEMES: dict[str, Apply] = {
    "none": none.apply,
    "bearer": bearer.apply,
}
