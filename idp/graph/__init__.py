"""The Graph-shaped admin API shell: served under /v1.0 and /beta, authorized by this IdP's bearer
tokens, answering errors in Graph's shape. Its blueprint (blueprint.py) takes the operations that resources
declare with `idp.kit.graph.operation` here and in the slices; openapi.py documents them."""
