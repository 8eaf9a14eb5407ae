"""Writing trees: bracketed, JSON, and drawn for a terminal.

Constituency trees are nested pairs of word indices (see
:func:`mintext.parse.decoders.top_down_tree`); dependency trees are CoNLL-U
``heads`` (0 = root).

Bracketed: one tree per line, a word as itself, a node as ``(left right)``,
the whole tree in parentheses even when it is one word: ``((计算机 (的 鼠标))
有)``, ``(好)``. Parentheses inside a word are written ``-LRB-``/``-RRB-``
(the Penn Treebank convention) and spaces inside a word (possible only in
CoNLL-U input) as U+00A0, so that the brackets and spaces stay unambiguous.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from mintext.parse.decoders import Tree

_ESCAPES = str.maketrans({"(": "-LRB-", ")": "-RRB-", " ": "\u00a0", "\t": "\u00a0"})


def bracketed(tree: Tree | None, words: Sequence[str]) -> str:
    """The bracketed form of ``tree`` over ``words`` (empty string for an empty sentence)."""
    if tree is None:
        return ""
    if isinstance(tree, int):
        return f"({words[tree].translate(_ESCAPES)})"
    out: list[str] = []
    stack: list[Tree | str] = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, int):
            out.append(words[item].translate(_ESCAPES))
        else:
            left, right = item
            stack += [")", right, " ", left, "("]
    return "".join(out)


def nested_words(tree: Tree | None, words: Sequence[str]) -> object:
    """``tree`` with word strings for indices, as nested lists (for JSON)."""
    if tree is None:
        return None
    if isinstance(tree, int):
        return words[tree]
    return [nested_words(tree[0], words), nested_words(tree[1], words)]


def json_line(record: dict) -> str:
    """One JSON object on one line (UTF-8 characters kept, keys in the given order)."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def draw_constituency(tree: Tree | None, words: Sequence[str]) -> str:
    """A binary tree drawn with box characters, one word per line, root at the left.

    >>> print(draw_constituency(((0, (1, 2)), 3), ["计算机", "的", "鼠标", "有"]), end="")
    ┬─┬─── 计算机
    │ └─┬─── 的
    │   └─── 鼠标
    └─── 有
    """
    if tree is None:
        return ""
    lines: list[str] = []
    stack: list[tuple[Tree, str, str]] = [(tree, "", "")]
    while stack:
        node, first, rest = stack.pop()
        if isinstance(node, int):
            lines.append(f"{first}── {words[node]}")
            continue
        left, right = node
        stack.append((right, rest + "└─", rest + "  "))
        stack.append((left, first + "┬─", rest + "│ "))
    return "".join(f"{line}\n" for line in lines)


def draw_dependency(heads: Sequence[int], words: Sequence[str]) -> str:
    """A dependency tree drawn from its root, dependents in sentence order, with word numbers.

    >>> print(draw_dependency([2, 0, 2], ["我", "爱", "你"]), end="")
    爱 (2)
    ├── 我 (1)
    └── 你 (3)
    """
    n = len(heads)
    children: list[list[int]] = [[] for _ in range(n + 1)]
    for m, h in enumerate(heads, 1):
        children[h].append(m)
    lines: list[str] = []
    stack: list[tuple[int, str, str]] = [(m, "", "") for m in reversed(children[0])]
    while stack:
        node, first, rest = stack.pop()
        lines.append(f"{first}{words[node - 1]} ({node})")
        kids = children[node]
        for position, child in reversed(list(enumerate(kids))):
            last = position == len(kids) - 1
            stack.append((child, rest + ("└── " if last else "├── "), rest + ("    " if last else "│   ")))
    return "".join(f"{line}\n" for line in lines)
