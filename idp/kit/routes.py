"""Routes a lower module adds to a shell's blueprint, kept in a table until the shell takes them.

A slice's pages (a TAP panel's actions, a passkey's registration) belong to the console's or My Security Info's
URL space, but the slice must not import those shells: it decorates its views with a `Routes` table here
(the same `route`/`get`/`post` as a blueprint's), and `idp.wiring` hands each table to its shell's blueprint
once, before the blueprint is registered. The endpoint names are the blueprint's (`console.<view>`) as before.
"""

from typing import Callable


class Routes:
    def __init__(self, shell: str):
        self.shell = shell  # the blueprint that takes these routes, by name (for the reader and the error)
        self.rules: list[tuple[str, str | None, Callable, dict]] = []
        self.template_globals: list[tuple[Callable, str | None]] = []
        self.taken = False

    def route(self, rule: str, **options):
        def decorate(view: Callable) -> Callable:
            if self.taken:
                raise RuntimeError(f"{view.__name__}: the {self.shell} blueprint already took its routes")
            self.rules.append((rule, options.pop("endpoint", None), view, options))
            return view

        return decorate

    def get(self, rule: str, **options):
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options):
        return self.route(rule, methods=["POST"], **options)

    def add_app_template_global(self, function: Callable, name: str | None = None) -> None:
        self.template_globals.append((function, name))

    def add_to(self, blueprint) -> None:
        """Give the recorded routes (in the order they were declared) to the shell's blueprint; once."""
        if self.taken:
            return
        for rule, endpoint, view, options in self.rules:
            blueprint.add_url_rule(rule, endpoint, view, **options)
        for function, name in self.template_globals:
            blueprint.add_app_template_global(function, name)
        self.taken = True
