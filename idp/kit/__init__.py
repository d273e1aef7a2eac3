"""The kit slices use to add to the shells without importing them.

graph.py             the Graph operation kit: `operation` (bearer guard, permission table, body schema), errors in
                     Graph's shape, the caller, `$select`, `@odata.context`, the user a path names
graph_permissions.py Graph's permission table (which delegated and application permissions grant each operation)
graph_functions.py   Graph's function-call paths (`/…/microsoft.graph.name(arg='…')`)
console.py           the admin console's route table and its guard (`admin_required`, the console's caller)
securityinfo.py      My Security Info's route table, its entry type and the rule for adding a method
fields.py            the console's form fields (labels, bounds, hints) and their error messages
routes.py            `Routes`: a route table a shell's blueprint takes when idp.wiring installs it

The shells (idp.graph, idp.console, idp.securityinfo) own the blueprints, their error handlers, the OpenAPI
document and their own pages; they sit above the slices, and this kit below them.
"""
