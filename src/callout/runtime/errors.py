"""Why a call did not succeed; each failure maps to one outcome and one reason.

    ExecutionError                                       outcome / reason
      + ParameterError  a parameter is missing, of the     failure / invalid_parameters
                        wrong type, or cannot be placed
      + AuthError       no token or session could be had   failure / authorization
      + UpstreamError   the connection failed, or the      failure / upstream_error
                        answer was unreadable
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

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParameterError(ExecutionError):
    reason = "invalid_parameters"


class AuthError(ExecutionError):
    reason = "authorization"


class UpstreamError(ExecutionError):
    reason = "upstream_error"


class Timeout(UpstreamError):
    outcome: Literal["failure", "timeout"] = "timeout"
    reason = "timeout"


class MappingError(ExecutionError):
    reason = "mapping"
