"""The headers that carry credentials: one table for every place that must know them.

Validation refuses such a header unless it is marked secret (so its value is sealed), a trace
masks its value whatever the API says, the log filter masks it in any line, and the LiveVox
scheme sends its access token and session under these names.
"""

LV_ACCESS = "LV-Access"
LV_SESSION = "LV-Session"
CREDENTIAL_HEADERS = frozenset(
    name.lower()
    for name in (
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        LV_ACCESS,
        LV_SESSION,
    )
)
