"""Checks of written reports: a small JSON Schema validator, JUnit XSD validation and an
HTML structure parser (tests/unit/test_reports.py).

The JSON check understands exactly the keywords run-report.schema.json uses (and says so
when the schema grows another), because jsonschema is not a test dependency.
"""

from __future__ import annotations

import functools
import importlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

JUNIT_XSD = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"

# Keywords check_json_schema implements; others would be silently ignored.
KNOWN_KEYWORDS = frozenset({
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "const", "enum",
    "minimum", "required", "properties", "additionalProperties", "items",
})
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}


def schema_keywords(schema: Any) -> set[str]:
    """Every keyword used anywhere in ``schema`` (property names excluded)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= schema_keywords(sub)
            elif isinstance(value, dict):
                found |= schema_keywords(value)
    return found


def _is_type(instance: Any, name: str) -> bool:
    if isinstance(instance, bool) and name in ("integer", "number"):
        return False  # JSON booleans are not numbers, though Python's bool is an int
    return isinstance(instance, _TYPES[name])


def check_json_schema(
    instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None, at: str = "$"
) -> list[str]:
    """Where ``instance`` breaks ``schema``: a list of messages, empty when valid."""
    root = root if root is not None else schema
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return check_json_schema(instance, target, root, at)
    errors: list[str] = []
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{at}: {instance!r} is not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{at}: {instance!r} not in {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, name) for name in names):
            return [*errors, f"{at}: {type(instance).__name__} is not {names}"]
    if "minimum" in schema and _is_type(instance, "number") and instance < schema["minimum"]:
        errors.append(f"{at}: {instance} < {schema['minimum']}")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        errors += [f"{at}: missing {key!r}" for key in schema.get("required", [])
                   if key not in instance]
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in properties:
                errors += check_json_schema(value, properties[key], root, f"{at}.{key}")
            elif extra is False:
                errors.append(f"{at}: unexpected {key!r}")
            elif isinstance(extra, dict):
                errors += check_json_schema(value, extra, root, f"{at}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            errors += check_json_schema(item, schema["items"], root, f"{at}[{index}]")
    return errors


@functools.cache
def _junit_validator() -> Any:
    try:
        xmlschema = importlib.import_module("xmlschema")
    except ModuleNotFoundError:
        pass
    else:
        return xmlschema.XMLSchema(str(JUNIT_XSD)).validate
    try:
        etree = importlib.import_module("lxml.etree")
    except ModuleNotFoundError:
        pytest.fail(
            "validating the JUnit report against tests/data/junit.xsd needs xmlschema (or "
            "lxml) installed: add xmlschema to the test extra in pyproject.toml"
        )
    schema = etree.XMLSchema(etree.parse(str(JUNIT_XSD)))
    return lambda path: schema.assertValid(etree.parse(path))


def validate_junit(path: Path) -> None:
    """Fail unless ``path`` is valid against the Jenkins junit-10.xsd copy."""
    _junit_validator()(str(path))


VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source"})


class PageParser(HTMLParser):
    """Parses a whole page, checking that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        current = self.stack[-1] if self.stack else ""
        if current == "script":
            self.scripts.append(data)
        elif current == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Attributes of the ``tag`` elements having all of ``attrs`` (class_ for class)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            a for t, a in self.elements
            if t == tag and all(
                v in a.get(k, "").split() if k == "class" else a.get(k) == v
                for k, v in wanted.items()
            )
        ]


def parse_page(data: str) -> PageParser:
    """``data`` parsed, with nesting checked."""
    parser = PageParser()
    parser.feed(data)
    parser.close()
    assert parser.problems == [], parser.problems[:5]
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser
