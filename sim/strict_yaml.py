"""Reading YAML that a user wrote: PyYAML's safe loader with the holes a hostile file uses closed.

``load_yaml(text, source)`` returns what ``yaml.safe_load`` would, or raises ``UserError`` naming
``source`` and the line, when the text

- repeats a key in one mapping (PyYAML keeps the last value silently; the first disappears);
- uses aliases whose expansion is larger than ``MAX_NODES`` nodes (a "billion laughs" file of a
  few hundred bytes expands to 10^9 values, and anything that walks or prints it hangs);
- refers to itself through an alias (a recursive structure);
- nests deeper than ``MAX_DEPTH`` (PyYAML composes recursively and would hit Python's limit).

Anchors and aliases within those limits (say, one step function reused by two states) load as
usual. The checks run on the composed node graph, before any Python value is built, in time
proportional to the number of distinct nodes.
"""

from __future__ import annotations

from typing import Any

import yaml

from sim.errors import UserError
from sim.limits import MAX_YAML_DEPTH as MAX_DEPTH
from sim.limits import MAX_YAML_NODES as MAX_NODES

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(SafeLoader):
    """A safe loader whose mappings refuse repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' deliberately overrides
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line
            try:
                first = first_line.get(key)
            except TypeError:
                continue  # an unhashable key: PyYAML's own check names it
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {_short(key)} (first at line {first + 1}, again "
                    f"at line {line + 1}); keep one of them",
                    key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_yaml(text: str, source: str) -> Any:
    """Parse ``text`` (from ``source``, named in errors) with the checks above."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise UserError(f"{source}: YAML syntax error{where}: {problem}") from None
    except RecursionError:
        raise UserError(
            f"{source}: the YAML nests too deeply (at most {MAX_DEPTH} levels)"
        ) from None
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse deep nesting, recursive aliases and expansions beyond ``MAX_NODES`` nodes.

    Iterative, with the expanded size of each distinct node computed once (aliases share the
    anchored node object), so a small file is checked quickly whatever it would expand to. The
    message names the key path of the smallest part that breaks a limit.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str, ...], bool]] = [(root, (), False)]
    while stack:
        node, path, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for _, child in _children(node))
            if size[key] > MAX_NODES:
                raise UserError(
                    f"{source}: {_where(path, node)}: the YAML expands to more than "
                    f"{MAX_NODES:,} values (through aliases '*name'); write the values out or "
                    "use fewer aliases"
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise UserError(
                f"{source}: {_where(path, node)}: an alias refers to the value that contains "
                "it (a recursive structure)"
            )
        if len(path) >= MAX_DEPTH:
            raise UserError(
                f"{source}: {_where(path, node)}: the YAML nests deeper than {MAX_DEPTH} levels"
            )
        on_path.add(key)
        stack.append((node, path, True))
        stack.extend(
            (child, (*path, label), False)
            for label, child in _children(node)
            if id(child) not in size
        )


def _where(path: tuple[str, ...], node: yaml.Node) -> str:
    shown = ".".join(path[:6]) + (".[...]" if len(path) > 6 else "")
    return f"{shown or '(top level)'} (line {node.start_mark.line + 1})"


def _children(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """Each child node with its label in a key path: its key, or its index in a list."""
    if isinstance(node, yaml.SequenceNode):
        return [(str(index), child) for index, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        children = []
        for key, value in node.value:
            label = _short(key.value, 30).strip("'") if isinstance(key, yaml.ScalarNode) else "?"
            children += [(label, key), (label, value)]
        return children
    return []
