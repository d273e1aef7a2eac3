"""One error for every refusal a service makes, mapped once per dialect.

A service (directory, policy, a method's slice, MFA settings, ...) raises a `ServiceError` subclass in words the
caller can act on. It never knows who asked: the Graph shell answers it as `{"error": {...}}` with `status`, `code`
and, for a property at fault, `details` (graph/blueprint.py's handler), in the service's English `message`. The pages
do not translate that English: they say `reason_id`, a stable name for what was wrong, in the reader's language with
`values` filled in (idp.ui.refusal_text), next to the field named by `target` or on the error page with a way back
(`idp.__init__`'s handler); a refusal with no known reason gets the page's sentence for its field, or a general
one (a message marked for the catalogue is still translated). Nothing here imports the domain.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refused request.

    `status`: the HTTP status either dialect answers with; `code`: Graph's error code (None: the Graph shell's
    default for the status); `target`: the property or form field at fault; `detail_code`: Graph's code for the
    `details` entry that names the target (only some directory errors carry one); `reason_id`: a stable name for
    what was wrong (such as "tap.lifetime"), which the pages say in the reader's words, with `values` in it.
    """

    status: int = 400
    code: str | None = None

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        code: str | None = None,
        target: str | None = None,
        detail_code: str | None = None,
        reason_id: str | None = None,
        values: dict[str, object] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.target, self.detail_code = target, detail_code
        self.reason_id, self.values = reason_id, dict(values or {})

    @property
    def field(self) -> str | None:
        """The form field at fault: the pages' name for `target`."""
        return self.target

    def graph_details(self) -> list[dict[str, str | None]] | None:
        if not self.detail_code:
            return None
        return [{"code": self.detail_code, "message": self.message, "target": self.target}]
