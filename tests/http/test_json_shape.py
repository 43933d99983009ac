"""The JSON shape scanner agrees with a walk of the parsed document, without parsing it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.http.limits import MediaTypeMatcher, json_shape_violation


def reference(document: Any, *, max_depth: int, max_array_length: int) -> str | None:
    """Which rule `document` breaks, by walking it (depth first, so depth wins ties)."""
    too_deep = too_long = False
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, list | dict):
            depth += 1
            too_deep |= depth > max_depth
            too_long |= isinstance(value, list) and len(value) > max_array_length
            children = value if isinstance(value, list) else value.values()
            stack.extend((child, depth) for child in children)
    if too_deep:
        return "max_json_depth"
    return "max_json_array_length" if too_long else None


def rule(body: bytes | str, *, max_depth: int = 3, max_array_length: int = 3) -> str | None:
    raw = body.encode() if isinstance(body, str) else body
    found = json_shape_violation(raw, max_depth=max_depth, max_array_length=max_array_length)
    return found.rule if found else None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1", None),
        ('"[[[[[[[[,,,,,,"', None),
        ("[[[1]]]", None),
        ("[[[[1]]]]", "max_json_depth"),
        ('{"a": {"b": {"c": 1}}}', None),
        ('{"a": {"b": {"c": {}}}}', "max_json_depth"),
        ("[1, 2, 3]", None),
        ("[1, 2, 3, 4]", "max_json_array_length"),
        ("[[1, 2], [3], [4, 5, 6]]", None),
        ("[[1, 2], [3], [4, 5, 6, 7]]", "max_json_array_length"),
        ("[[1, 2, 3, 4, 5, 6], 1]", "max_json_array_length"),
        ('[{"a": 1, "b": 2, "c": 3, "d": 4}]', None),  # object members are not array elements
        ('["a,b,c,d,e", "x"]', None),  # commas inside strings do not count
        ('["\\"],[,,,,", 1]', None),  # nor brackets after an escaped quote
        ('["\\\\", [[[1]]]]', "max_json_depth"),  # an escaped backslash ends the string
        ("[[1, 2], 3, [4], 5, 6]", "max_json_array_length"),  # elements around inner arrays
        ('[1, 2, "unterminated', None),
        ("]]]]],,,,,[", None),
        ("", None),
    ],
)
def test_shape_table(body: str, expected: str | None) -> None:
    assert rule(body) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{},"\\ab\n'),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(alphabet='[]{},"\\ab', max_size=3), children, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(document=json_values, indent=st.sampled_from([None, 1]))
def test_scanner_agrees_with_a_walk_of_the_parsed_document(document: Any, indent: int) -> None:
    body = json.dumps(document, indent=indent)
    assert rule(body) == reference(document, max_depth=3, max_array_length=3)


def test_a_megabyte_of_nested_legal_json_is_scanned() -> None:
    # The shapes that cost a token-by-token scanner most: many small containers, deep ones.
    leaf = [[[{"k": [1, "x,[y]"]}] * 3] * 2]
    item: Any = leaf
    for _ in range(12):
        item = {"a": [item, "]"]}
    body = json.dumps([item, *([leaf] * 9_000)]).encode()
    assert len(body) > 1_000_000
    assert json_shape_violation(body, max_depth=32, max_array_length=10_000) is None
    assert json_shape_violation(body, max_depth=27, max_array_length=10_000) is not None


def test_a_megabyte_of_brackets_is_refused_for_depth() -> None:
    body = b"[" * 524_288 + b"]" * 524_288
    found = json_shape_violation(body, max_depth=32, max_array_length=10_000)
    assert found is not None
    assert found.rule == "max_json_depth"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("application/json", True),
        ("application/vnd.api+json", True),
        ("application/x-www-form-urlencoded", True),
        ("multipart/form-data", True),
        ("text/plain", False),
        ("application/jsonx", False),
        ("application/", False),
        ("", False),
    ],
)
def test_default_media_types(value: str, accepted: bool) -> None:
    matcher = MediaTypeMatcher(
        [
            "application/json",
            "application/*+json",
            "application/x-www-form-urlencoded",
            "Multipart/Form-Data; boundary=ignored",
        ]
    )
    assert matcher(value) is accepted
