"""Configuration files that people edit: YAML and CSV read with line numbers.

Everything a city or a wall is configured with is checked at load and refused with
the file, the line and the problem, rather than failing in the middle of a shift.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

__all__ = [
    "ConfigError",
    "Node",
    "Record",
    "Seen",
    "read_text",
    "read_yaml",
    "record",
    "top_records",
]


class ConfigError(Exception):
    """A city's configuration is wrong; str() names the file, line and problem."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.problem = file, line, problem


# --- reading files, keeping line numbers -------------------------------------------


class Node(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int = 1
    lines: dict[str, int]


class Loader(yaml.SafeLoader):
    """Safe YAML that records lines and leaves numbers as text.

    Codes such as 0101 must keep their leading zeros (YAML 1.1 would even read
    them as octal), so staff never have to remember quotes: only booleans and
    null are resolved implicitly, and numbers are parsed where they are expected.
    Dates stay text too, so that 2027-02-30 is refused with its line, not a traceback.
    """


_AS_TEXT = (":int", ":float", ":timestamp")
Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith(_AS_TEXT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_node(loader: Loader, node: yaml.MappingNode) -> Iterator[Node]:
    data = Node()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        # PyYAML keeps the last of two equal keys silently; a person meant one of them.
        if not isinstance(key, str) or key in data:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate or non-text key {key!r}", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1


Loader.add_constructor("tag:yaml.org,2002:map", _construct_node)


def read_text(path: Path) -> str:
    """A file's text; a spreadsheet export may be GB18030 rather than UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(path.name, None, f"cannot be read ({error.strerror})") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as error:
            raise ConfigError(path.name, None, "is neither UTF-8 nor GB18030 text") from error


def read_yaml(path: Path) -> Any:
    """Parse a YAML file with Loader, turning syntax errors into ConfigError."""
    try:
        return yaml.load(read_text(path), Loader=Loader)  # Loader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(path.name, line, f"invalid YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise ConfigError(path.name, None, f"invalid YAML: {error}") from error


@dataclass
class Record:
    """One entry of a file (a YAML mapping or a CSV row) and where it stands."""

    file: str
    line: int
    fields: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    subject: str = "entry"

    def fail(self, problem: str, key: str | None = None) -> NoReturn:
        """Refuse the entry, pointing at the line of `key` when it is known."""
        raise ConfigError(self.file, self.lines.get(key or "", self.line), problem)

    def text(self, key: str, default: str | None = None) -> str:
        """A non-empty text field, required unless a default is given."""
        value = self.fields.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(f"{self.subject} lacks required field '{key}'", key)
            return default
        if not isinstance(value, str):
            self.fail(f"{self.subject} field '{key}' must be text, not {value!r}", key)
        return value.strip()

    def only(self, allowed: set[str]) -> None:
        """Refuse fields nothing reads: they are almost always typos."""
        for key in self.fields:
            if key not in allowed:
                self.fail(f"{self.subject} has unknown field '{key}'", key)

    def children(self, key: str) -> list[Record]:
        """The mappings listed under `key`, which must be present."""
        value = self.fields.get(key)
        if not isinstance(value, list):
            self.fail(f"{self.subject} needs a list under '{key}'", key)
        return [record(self.file, item, self.lines.get(key, self.line)) for item in value]


def record(file: str, value: Any, line: int) -> Record:
    """Wrap a parsed YAML mapping, refusing anything else."""
    if not isinstance(value, Node):
        raise ConfigError(file, line, f"expected a mapping of fields, got {value!r}")
    return Record(file, value.line, dict(value), dict(value.lines))


def top_records(path: Path, what: str) -> list[Record]:
    """The entries of a YAML file whose top level is a list."""
    value = read_yaml(path)
    if not isinstance(value, list):
        raise ConfigError(path.name, 1, f"expected a list of {what}")
    return [record(path.name, item, 1) for item in value]


class Seen:
    """Codes met so far, to refuse a duplicate with the line of the first."""

    def __init__(self) -> None:
        self.lines: dict[Hashable, int] = {}

    def add(self, rec: Record, what: str, code: Hashable, key: str = "code") -> None:
        """Record a code, or refuse the entry if it was met before."""
        first = self.lines.get((what, code))
        if first is not None:
            rec.fail(f"duplicate {what} (first on line {first})", key)
        self.lines[(what, code)] = rec.lines.get(key, rec.line)
