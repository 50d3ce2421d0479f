"""Python's and torch's own error messages, recognised by pattern: each common one maps to a catalog key and args.

The sandbox shows a SyntaxError, a NameError or a shape mismatch in the user's language; the English text Python
wrote stays with the error as its `detail`. A message no pattern knows is shown as Python wrote it.
"""

from __future__ import annotations

import re

# (pattern on the whole message, catalog key); the pattern's named groups are the key's arguments.
SYNTAX: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"'(?P<bracket>[(\[{])' was never closed"), "sb_py_never_closed"),
    (re.compile(r"unmatched '(?P<bracket>[)\]}])'"), "sb_py_unmatched"),
    (re.compile(r"closing parenthesis '(?P<close>.)' does not match opening parenthesis '(?P<open>.)'"
                r"(?: on line \d+)?"), "sb_py_mismatch"),
    (re.compile(r"invalid syntax"), "sb_py_invalid_syntax"),
    (re.compile(r"invalid syntax\. Perhaps you forgot a comma\?"), "sb_py_forgot_comma"),
    (re.compile(r"expected '(?P<what>[^']{1,10})'"), "sb_py_expected"),
    (re.compile(r"unexpected indent"), "sb_py_unexpected_indent"),
    (re.compile(r"expected an indented block after (?P<what>.{1,60}) on line (?P<line>\d+)"), "sb_py_expected_indent"),
    (re.compile(r"expected an indented block"), "sb_py_expected_indent_plain"),
    (re.compile(r"unindent does not match any outer indentation level"), "sb_py_unindent"),
    (re.compile(r"inconsistent use of tabs and spaces in indentation"), "sb_py_tabs"),
    (re.compile(r"unterminated string literal \(detected at line (?P<line>\d+)\)"), "sb_py_unterminated_string"),
    (re.compile(r"unterminated triple-quoted string literal \(detected at line (?P<line>\d+)\)"),
     "sb_py_unterminated_triple"),
    (re.compile(r"invalid character '(?P<char>.)' \((?P<code>U\+[0-9A-F]{4,6})\)"), "sb_py_invalid_char"),
    (re.compile(r"invalid non-printable character (?P<code>U\+[0-9A-F]{4,6})"), "sb_py_nonprintable"),
    (re.compile(r"invalid decimal literal"), "sb_py_invalid_decimal"),
    (re.compile(r"cannot assign to (?P<what>[\w ]{1,40}?) here\. Maybe you meant '==' instead of '='\?"),
     "sb_py_cannot_assign_eq"),
    (re.compile(r"cannot assign to (?P<what>[\w ]{1,40})"), "sb_py_cannot_assign"),
    (re.compile(r"Missing parentheses in call to '(?P<name>\w{1,20})'\. Did you mean \w{1,20}\(\.\.\.\)\?"),
     "sb_py_print_parens"),
    (re.compile(r"'(?P<what>return|break|continue|yield|await)' outside (?P<where>function|loop|async function)"),
     "sb_py_outside"),
    (re.compile(r"positional argument follows keyword argument"), "sb_py_positional_after_kw"),
    (re.compile(r"unexpected EOF while parsing"), "sb_py_eof"),
]  # fmt: skip

_NAME = r"[\w.<>]{1,80}"
# Run-time messages as the sandbox words them ("TypeError: ..." for Python's exceptions, torch's RuntimeError bare).
RUNTIME: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"ZeroDivisionError: (?P<text>(?:float |integer |complex )?division(?: or modulo)? by zero|"
                r"float modulo|integer modulo by zero)"), "sb_py_zero_division"),
    (re.compile(r"IndexError: (?P<what>list|tuple|string|range object) index out of range"), "sb_py_index_range"),
    (re.compile(r"IndexError: index (?P<index>-?\d+) is out of bounds for dimension (?P<dim>\d+) with size "
                r"(?P<size>\d+)"), "sb_py_index_bounds"),
    (re.compile(r"KeyError: (?P<key>.{1,200})"), "sb_py_key"),
    (re.compile(r"TypeError: unsupported operand type\(s\) for (?P<op>\S{1,3}): '(?P<a>" + _NAME + r")' and '(?P<b>"
                + _NAME + r")'"), "sb_py_operand"),
    (re.compile(r"TypeError: (?P<func>" + _NAME + r")\(\) missing (?P<n>\d+) required positional arguments?: "
                r"(?P<names>.{1,200})"), "sb_py_missing_args"),
    (re.compile(r"TypeError: (?P<func>" + _NAME + r")\(\) takes (?P<n>\d+) positional arguments? but "
                r"(?P<m>\d+) (?:was|were) given"), "sb_py_too_many_args"),
    (re.compile(r"UnboundLocalError: cannot access local variable '(?P<name>\w{1,80})' where it is not associated "
                r"with a value"), "sb_py_unbound"),
    (re.compile(r"AttributeError: '(?P<type>" + _NAME + r")' object has no attribute '(?P<name>\w{1,80})'"),
     "sb_py_no_attr"),
    (re.compile(r"ValueError: too many values to unpack \(expected (?P<n>\d+)\)"), "sb_py_unpack_many"),
    (re.compile(r"ValueError: not enough values to unpack \(expected (?P<n>\d+), got (?P<m>\d+)\)"),
     "sb_py_unpack_few"),
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied \((?P<a>\d+x\d+) and (?P<b>\d+x\d+)\)"),
     "sb_py_mat_shapes"),
    (re.compile(r"The size of tensor a \((?P<a>\d+)\) must match the size of tensor b \((?P<b>\d+)\) at "
                r"non-singleton dimension (?P<dim>\d+)"), "sb_py_size_match"),
]  # fmt: skip


def _match(table: list[tuple[re.Pattern[str], str]], message: str) -> tuple[str, dict[str, str]] | None:
    for pattern, key in table:
        m = pattern.fullmatch(message)
        if m is not None:
            return key, m.groupdict()
    return None


def syntax(message: str) -> tuple[str, dict[str, str]] | None:
    """(catalog key, args) for a SyntaxError/IndentationError message Python wrote, or None."""
    return _match(SYNTAX, message)


def runtime(message: str) -> tuple[str, dict[str, str]] | None:
    """(catalog key, args) for a run-time error message as the sandbox words it, or None."""
    return _match(RUNTIME, message)
