"""OData function calls: `…/name`, `…/name()`, `…/name(p=1,q='x')` and parameter aliases
(`…/name(p=@a)?@a=1`), which is how Microsoft's Graph SDKs call a function that takes parameters."""

import re

from flask import request

from .graph import bad_request, operation

_ARGUMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^,']*?)\s*(?:,|$)")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
MAX_CALL = 1000


def parse_call(call: str, params: tuple[str, ...], function: str) -> dict:
    """The arguments of `function(call)`, as Python values (int, str, bool, None); aliases resolved from the
    query string. A malformed call, an unknown or repeated parameter, or a missing alias is a Graph 400."""
    found: dict = {}
    if len(call) > MAX_CALL:
        raise bad_request(f"The arguments of '{function}' are too long.")
    position = 0
    while position < len(call):
        match = _ARGUMENT.match(call, position)
        if match is None or match.end() == position:
            raise bad_request(f"The arguments of '{function}' must be written name=value, separated by commas.")
        name, raw = match.group(1), match.group(2)
        if name not in params:
            raise bad_request(f"'{name}' is not a parameter of '{function}' (parameters: {', '.join(params)}).")
        if name in found:
            raise bad_request(f"Parameter '{name}' of '{function}' is given twice.")
        found[name] = _value(raw, name, function)
        position = match.end()
    return found


def _value(raw: str, name: str, function: str):
    if raw.startswith("@"):
        # OData's form is ?@alias=value; Microsoft's Kiota-built SDKs send ?alias=value (no "@"): take both
        value = request.args.get(raw, request.args.get(raw[1:]))
        if value is None:
            raise bad_request(f"Parameter alias '{raw[:64]}' of '{function}' has no value in the query string.")
        raw = value.strip()
    if _INTEGER.fullmatch(raw):
        return int(raw)
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    raise bad_request(f"Parameter '{name}' of '{function}': '{raw[:64]}' is not a valid value.")


def function(path: str, params: tuple[str, ...], methods=("GET",), **spec):
    """Register a Graph function at `path` in all three call forms. The view receives the path's own
    parameters and the function's arguments by their OData names (absent ones are not passed)."""
    name = path.rsplit("/", 1)[1]

    def decorate(view):
        def plain(**kwargs):
            return view(**kwargs)

        def called(call, **kwargs):
            return view(**kwargs, **parse_call(call, params, name))

        for suffix, target, form in (("", plain, "plain"), ("()", plain, "empty"), ("({call})", called, "call")):
            target.__name__ = f"{view.__name__}_{form}"
            operation(path + suffix, list(methods), **spec)(target)
        return view

    return decorate
