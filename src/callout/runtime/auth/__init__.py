"""Authorization at run time: one module per scheme, chosen by the API's authorization type."""

from callout.runtime.auth import basic, bearer, none
from callout.runtime.auth.base import Apply

SCHEMES: dict[str, Apply] = {
    "none": none.apply,
    "basic": basic.apply,
    "bearer": bearer.apply,
}
