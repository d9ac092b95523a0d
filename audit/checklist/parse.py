"""Read YAML text into plain data while remembering the line of every key and value.

Checklist files are written by people, so every problem must name a line. PyYAML's `compose` gives a
node tree with marks; this module turns that tree into plain dicts, lists and scalars, and records the
line of each value (and of each mapping key) by its path, e.g. ("sections", 0, "items", 2, "weight").
"""

import re
from dataclasses import dataclass, field

import yaml
from flask_babel import gettext
from yaml.nodes import ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALAR_TAGS = (_STR, _INT, _FLOAT, _BOOL, _NULL)

# Scalars are resolved the YAML 1.2 way: only true/false are booleans, so `in: [yes, no]` in a show_if
# or an option id `no` stay text (YAML 1.1 would turn them into booleans); no dates, no 1:30 = 90.
_IMPLICIT_SCALARS = [
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (_FLOAT, r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+0123456789."),
    (_FLOAT, r"^[-+]?\.(?:inf|Inf|INF)$", "-+."),
    (_FLOAT, r"^\.(?:nan|NaN|NAN)$", "."),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]

# A few aliases can expand into a huge tree ("billion laughs"); no real checklist comes near this.
MAX_NODES = 200_000


class ChecklistYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 style plain scalars (see _IMPLICIT_SCALARS)."""

    yaml_implicit_resolvers = {}


class FastChecklistYamlLoader(getattr(yaml, "CSafeLoader", ChecklistYamlLoader)):
    """The same, read by libyaml (PyYAML's C parser, in its wheels): about ten times as fast as the
    pure-Python reader, which took a third of a second for a 100-question checklist. A file libyaml
    refuses is read again by ChecklistYamlLoader, whose messages _syntax_problem explains."""

    yaml_implicit_resolvers = {}


for _tag, _pattern, _first in _IMPLICIT_SCALARS:
    ChecklistYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
    FastChecklistYamlLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class ChecklistYamlDumper(yaml.SafeDumper):
    """SafeDumper that quotes any text a YAML 1.1 or 1.2 reader could take for something else."""

    def increase_indent(self, flow=False, indentless=False):
        # Indent lists under their key, as people write them by hand.
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):
        # Anchors and aliases would make the file harder to edit; repeat the data instead.
        return True


ChecklistYamlDumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in _IMPLICIT_SCALARS:
    ChecklistYamlDumper.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _represent_text(dumper, text):
    # Multi-line help texts read best as literal blocks; the emitter falls back to quotes when needed.
    style = "|" if "\n" in text else None
    return dumper.represent_scalar(_STR, text, style=style)


ChecklistYamlDumper.add_representer(str, _represent_text)


class LineMap:
    """The 1-based line of every value and mapping key of a parsed document, by path."""

    def __init__(self):
        self._values = {}
        self._keys = {}

    def record_value(self, path, line):
        """Remember the line where the value at `path` starts."""
        self._values[path] = line

    def record_key(self, path, line):
        """Remember the line of the mapping key whose value is at `path`."""
        self._keys[path] = line

    def line_of(self, path):
        """Line of the value at `path`, or of its nearest recorded parent; None when unknown."""
        path = tuple(path)
        while True:
            if path in self._values:
                return self._values[path]
            if not path:
                return None
            path = path[:-1]

    def key_line_of(self, path):
        """Line of the key at `path` (for "unknown key" problems), else the value's line."""
        path = tuple(path)
        if path in self._keys:
            return self._keys[path]
        return self.line_of(path)


@dataclass
class ParsedYaml:
    """Plain data of a YAML document, the lines of its parts, and (line, message) problems."""

    data: object = None
    lines: LineMap = field(default_factory=LineMap)
    problems: list = field(default_factory=list)


class _AbortParse(Exception):
    """A problem that makes the rest of the document meaningless (endless or huge alias trees)."""

    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node):
    return node.start_mark.line + 1


def _not_valid(tag, shown):
    """The message for a scalar that does not read as its tag's type (one whole sentence per type)."""
    if tag == _INT:
        return gettext("%(value)s is not a valid whole number", value=shown)
    if tag == _FLOAT:
        return gettext("%(value)s is not a valid number", value=shown)
    if tag == _BOOL:
        return gettext("%(value)s is not a valid true/false", value=shown)
    if tag == _NULL:
        return gettext("%(value)s is not a valid null", value=shown)
    return gettext("%(value)s is not a valid text", value=shown)


def describe(value):
    """A short, YAML-like rendering of a value for messages: 'text', 5, true, null, a list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return gettext("a mapping")
    if isinstance(value, list):
        # "must be a non-empty list (got a list)" said nothing of what was wrong with `sections: []`.
        return gettext("a list") if value else gettext("an empty list")
    return type(value).__name__


class _Converter:
    """Turns a composed node tree into plain data, recording lines and collecting problems."""

    def __init__(self):
        self.lines = LineMap()
        self.problems = []
        self._constructor = yaml.constructor.SafeConstructor()
        self._node_count = 0
        self._open_collections = set()

    def convert(self, node, path):
        self._node_count += 1
        if self._node_count > MAX_NODES:
            raise _AbortParse(_line(node), gettext("the file is too large (do its aliases repeat too much?)"))
        self.lines.record_value(path, _line(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self._open_collections:
            raise _AbortParse(_line(node), gettext("an alias refers to a mapping or list that contains it"))
        self._open_collections.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._check_collection_tag(node, _SEQ)
                return [self.convert(child, path + (index,)) for index, child in enumerate(node.value)]
            self._check_collection_tag(node, _MAP)
            return self._mapping(node, path)
        finally:
            self._open_collections.discard(id(node))

    def _check_collection_tag(self, node, expected):
        if node.tag != expected:
            self.problems.append((_line(node), gettext("unsupported YAML tag %(tag)s", tag=repr(node.tag))))

    def _scalar(self, node):
        if node.tag not in _SCALAR_TAGS:
            self.problems.append((_line(node), gettext("unsupported YAML tag %(tag)s", tag=repr(node.tag))))
            return node.value
        try:
            return self._constructor.construct_object(node)
        except (ValueError, KeyError, TypeError, yaml.YAMLError):
            self.problems.append((_line(node), _not_valid(node.tag, describe(node.value))))
            return node.value

    def _mapping(self, node, path):
        result = {}
        key_lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problems.append((_line(key_node), gettext("a key must be a plain name, not a list or mapping")))
                continue
            key = self._scalar(key_node)
            if key in key_lines:
                self.problems.append(
                    (_line(key_node), gettext("duplicate key %(key)s (first on line %(line)s)",
                                              key=describe(key), line=key_lines[key]))
                )
            else:
                key_lines[key] = _line(key_node)
            self.lines.record_key(path + (key,), _line(key_node))
            result[key] = self.convert(value_node, path + (key,))
        return result


def _explained(problem, context):
    """The usual PyYAML problems in the reader's words (PyYAML's own are English), or None. Each in the
    words of the pure-Python reader and of libyaml ("did not find expected ..."): see _compose."""
    context = context or ""
    if problem in ("mapping values are not allowed here", "mapping values are not allowed in this context"):
        return gettext("a ': ' inside a text that is not in quotes; put the text in quotes")
    if problem == "could not find expected ':'":
        return gettext("a line without its ':', or indented unlike the lines around it")
    if problem.startswith(("expected ',' or ']'", "did not find expected ',' or ']'")):
        return gettext("a list in [...] is not closed with ']'")
    if problem.startswith(("expected ',' or '}'", "did not find expected ',' or '}'")):
        return gettext("a mapping in {...} is not closed with '}'")
    if problem.startswith("found character '\\t'"):  # PyYAML writes the tab escaped
        return gettext("a tab where YAML takes only spaces; indent with spaces")
    if problem.startswith("expected <block end>"):
        return gettext("this line is indented unlike the lines around it")
    if problem == "found unexpected end of stream" and "quoted" in context:
        return gettext("a quoted text is not closed with its quote")
    return None


_OPENING_QUOTE = re.compile(r"""^\s*(?:-\s+)?(?:[^\s:'"#][^:#]*:\s+)?(['"])(.*)$""")


def _unclosed_quote_before(text, line):
    """The number of a line shortly before `line` (1-based) whose quoted text is not closed on it, or None."""
    lines = text.splitlines()
    for number in range(min(line, len(lines)), max(line - 6, 0), -1):
        found = _OPENING_QUOTE.match(lines[number - 1])
        if not found:
            continue
        quote, rest = found.groups()
        rest = rest.replace("''", "") if quote == "'" else rest.replace('\\\\', "").replace('\\"', "")
        if quote not in rest:
            return number
    return None


def _syntax_problem(error, text):
    """(line, message) for a PyYAML error, with the line where the parser noticed it."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, max(error.position, 0)) + 1
        character = error.character if isinstance(error.character, str) else chr(error.character)
        return line, gettext("YAML syntax error: character #x%(code)s is not allowed (%(reason)s)",
                             code=f"{ord(character):04x}", reason=error.reason)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if context == "expected a single document in the stream":
        return line, gettext("the file must hold one YAML document, but another one starts here")
    context_mark = getattr(error, "context_mark", None)
    if problem.endswith("but got '?'") and context and "flow" in context:
        # PyYAML ends unquoted text at '?' inside {...} and [...], which catches every question.
        return line, gettext("YAML syntax error: a '?' inside {...} or [...] ends unquoted text; put the text in quotes")
    explained = _explained(problem, context)
    if explained and line is not None and (problem.startswith("expected <block end>")
                                           or problem == "could not find expected ':'"):
        # A quote left open runs on into the next lines until a quote closes it there: PyYAML then
        # finds the lines after it misplaced, and "indented unlike the lines around it" pointed at
        # a line with nothing wrong.
        opened = _unclosed_quote_before(text, line)
        if opened is not None:
            return opened, gettext("YAML syntax error: %(problem)s", problem=gettext(
                "a quoted text is not closed with its quote"))
    if explained:
        return line, gettext("YAML syntax error: %(problem)s", problem=explained)
    # PyYAML's own description of the rarer problems is English; the sentence around it is translated.
    if context:
        if context_mark is not None and context_mark.line + 1 != line:
            context = gettext("%(context)s on line %(line)s", context=context, line=context_mark.line + 1)
        problem = f"{problem} ({context})"
    return line, gettext("YAML syntax error: %(problem)s", problem=problem)


def _line_of(error):
    mark = getattr(error, "problem_mark", None)
    return mark.line if mark is not None else None


def _compose(text):
    """The node tree, by libyaml; a file it refuses is read again by the pure-Python reader, whose
    words are clearer (it names the undefined alias, the tab). That reader also refuses some text
    libyaml rightly reads (a question mark in text inside {...}): its complaint stands only where
    libyaml found a problem too, else libyaml's own is told."""
    try:
        return yaml.compose(text, Loader=FastChecklistYamlLoader)
    except UnicodeError:  # a lone surrogate, which libyaml cannot even be given: the reader names it
        return yaml.compose(text, Loader=ChecklistYamlLoader)
    except yaml.YAMLError as fast_error:
        try:
            return yaml.compose(text, Loader=ChecklistYamlLoader)
        except yaml.YAMLError as error:
            raise (error if _line_of(error) == _line_of(fast_error) else fast_error) from None


def parse_yaml(text):
    """Parse one YAML document into ParsedYaml; never raises for bad input, it reports problems."""
    parsed = ParsedYaml()
    try:
        root = _compose(text)
    except yaml.YAMLError as error:
        parsed.problems.append(_syntax_problem(error, text))
        return parsed
    except RecursionError:
        parsed.problems.append((None, gettext("YAML syntax error: the lists or mappings are nested too deeply")))
        return parsed
    if root is None:
        parsed.problems.append((1, gettext("the file is empty")))
        return parsed
    converter = _Converter()
    try:
        parsed.data = converter.convert(root, ())
    except _AbortParse as abort:
        converter.problems.append((abort.line, abort.message))
        parsed.data = None
    except RecursionError:
        converter.problems.append((None, gettext("the lists or mappings are nested too deeply")))
        parsed.data = None
    parsed.lines = converter.lines
    parsed.problems = converter.problems
    return parsed
