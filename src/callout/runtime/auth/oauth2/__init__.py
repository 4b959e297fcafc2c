"""OAuth 2.0 access tokens (RFC 6749), obtained, cached and renewed by Callout, laid out as
Authlib lays out the RFC:

    scheme.py              the scheme: a token from the cache or the grant, sent in a header
                           or the query, expired on a 401 or a declared expiry signal
    grant.py               the small interface every grant implements
    client_credentials.py  section 4.4
    password.py            section 4.3
    refresh_token.py       section 6 (every grant's refresh, and the grant of that name)
    authorization_code.py  section 4.1 with PKCE (RFC 7636): the browser's leg, the exchange
    token_endpoint.py      what they share: the token request (section 3.2), client
                           authentication (2.3.1), the answer (5.1) or refusal (5.2)
"""
