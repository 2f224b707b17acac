"""Attribute docstrings of a dataclass (a config or a scheme): the string under each field, read with ``ast``.

They are the single place a field is documented; the CLI's ``--help`` and the page's tooltips reuse them.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from functools import cache


@cache
def field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` for the annotated fields of ``cls`` and its bases (first line-joined)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    if dataclasses.is_dataclass(cls):  # documented ClassVars (e.g. Scheme.title) are not fields
        fields = {f.name for f in dataclasses.fields(cls)}
        docs = {k: v for k, v in docs.items() if k in fields}
    return docs
