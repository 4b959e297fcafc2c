"""Authorization at run time: one module per scheme, each a frozen value of the plan behind
one small interface (base.py).

A scheme whose proof never changes (Basic; a bearer token with no placeholder) is folded
into the plan as a fixed Authorization header, so the hot path sends it as any fixed header;
the others `apply` on each call.

    none.py  basic.py  bearer.py  oauth1.py  livevox.py  oauth2/ (one module per grant)
    tokens.py    where tokens and sessions live between calls
    renewals.py  an executor's background renewals
"""
