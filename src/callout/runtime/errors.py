"""Why a call did not succeed; each failure maps to one outcome and one reason.

    ExecutionError                                       outcome / reason
      + ParameterError  a parameter is missing, of the     failure / invalid_parameters
                        wrong type, or cannot be placed
      + AuthError       no token or session could be had   failure / authorization
      + BlockedAddress  the guard refused where the URL    failure / blocked_address
                        leads (or a redirect led)
      + TooLarge        the answer passed a size cap       failure / too_large
      + CircuitOpen     the API's breaker is open          failure / circuit_open
      + TooManyCalls    the client has its cap of calls    failure / too_many_calls
                        in flight
      + RedirectRefused a redirect would carry secret      failure / redirect_refused
                        parameters in the body to another
                        origin
      + UpstreamError   the connection failed, or the      failure / upstream_error
                        answer was unreadable
        + TooManyRedirects  more than 5 redirects          failure / too_many_redirects
        + Timeout       the call's deadline passed         timeout / timeout
      + MappingError    the response cannot give a         failure / mapping
                        declared output

A non-success status is not an exception: it is a `failure` outcome with reason `status`.
Messages name what is wrong and never hold a secret or a parameter's value.
"""

from typing import Literal


class ExecutionError(Exception):
    outcome: Literal["failure", "timeout"] = "failure"
    reason = "error"

    def __init_subclass__(cls, *, reason: str, **kwargs: object) -> None:
        """Each kind of failure names its reason where it is declared."""
        super().__init_subclass__(**kwargs)
        cls.reason = reason

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParameterError(ExecutionError, reason="invalid_parameters"): ...


class AuthError(ExecutionError, reason="authorization"): ...


class BlockedAddress(ExecutionError, reason="blocked_address"): ...


class TooLarge(ExecutionError, reason="too_large"): ...


class CircuitOpen(ExecutionError, reason="circuit_open"): ...


class TooManyCalls(ExecutionError, reason="too_many_calls"): ...


class RedirectRefused(ExecutionError, reason="redirect_refused"): ...


class UpstreamError(ExecutionError, reason="upstream_error"):
    def __init__(self, message: str, *, connect: bool = False) -> None:
        super().__init__(message)
        self.connect = connect  # no connection was made: nothing was sent


class TooManyRedirects(UpstreamError, reason="too_many_redirects"): ...


class Timeout(UpstreamError, reason="timeout"):
    outcome: Literal["failure", "timeout"] = "timeout"


class MappingError(ExecutionError, reason="mapping"): ...
