"""The request plan: an API and one of its requests merged into what the executor sends."""

from urllib.parse import urlsplit, urlunsplit


def join_url(base_url: str, url_path: str, endpoint_path: str) -> str:
    """Join base URL, URL path and endpoint path with exactly one slash at each join.

        join_url("https://crm.example/api/", "/v2/", "customers/${id}")
        -> "https://crm.example/api/v2/customers/${id}"

    Empty parts add nothing; a trailing slash on the last non-empty part is kept.
    """
    parts = urlsplit(base_url)
    pieces = [parts.path.rstrip("/")]
    for piece in (url_path, endpoint_path):
        if piece.strip("/"):
            pieces.append(piece.strip("/"))
    path = "/".join(pieces)
    last = endpoint_path if endpoint_path.strip("/") else url_path if url_path.strip("/") else ""
    if last.endswith("/") or (not last and parts.path.endswith("/")):
        path += "/"
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
