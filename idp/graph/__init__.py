"""The Graph-shaped admin API shell: served under /v1.0 and /beta, authorized by this IdP's bearer
tokens, answering errors in Graph's shape. Resources register themselves with `operation`."""

from .api import Caller, GraphError, audit, bp, current_caller, operation, read_json

__all__ = ["Caller", "GraphError", "audit", "bp", "current_caller", "operation", "read_json"]
