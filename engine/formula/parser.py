"""Tokens into a syntax tree: a Pratt parser with Excel's precedence.

From the loosest to the tightest binding (all binary operators are left-associative,
as in Excel, so `2^3^2` is 64 and `a<b<c` compares `a<b` with `c`):

    =  <>  <  <=  >  >=   (== and != are read as = and <>)
    &
    +  -
    *  /
    ^
    %                     postfix percent
    -  +                  unary sign: binds tighter than ^, so -3^2 is 9

The parser recurses once per level of brackets, operators and calls, and refuses a
formula deeper than `ParseLimits.max_depth` before Python's own limit is near; the
other limits (length, node count, literal sizes, path length) are checked here too.
Function names are checked against the function table, with their argument counts,
so nothing outside the table can ever be called.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Mapping

from engine.formula import lexer
from engine.formula.diagnostics import FormulaSyntaxError, line_column
from engine.formula.functions import FUNCTIONS
from engine.formula.lexer import Token
from engine.formula.limits import DEFAULT_LIMITS, ParseLimits
from engine.formula.nodes import (
    ArrayLiteral, Binary, Boolean, Call, FieldRef, Formula, Node, Number, Text, Unary,
)
from engine.suggest import did_you_mean

# Binding power of each binary operator (higher binds tighter).
BINARY_POWER = {
    "=": 10, "<>": 10, "<": 10, "<=": 10, ">": 10, ">=": 10,
    "&": 20,
    "+": 30, "-": 30,
    "*": 40, "/": 40,
    "^": 50,
}
PERCENT_POWER = 60
PREFIX_POWER = 70


def parse(text: str, functions: Mapping | None = None,
          limits: ParseLimits = DEFAULT_LIMITS) -> Formula:
    """Parse formula text (a leading "=" is allowed) into a Formula.

    `functions` maps upper-case names to specs with `min_args`, `max_args` and
    `volatile` (default: the function library). Raises FormulaSyntaxError.
    """
    if not isinstance(text, str):
        raise FormulaSyntaxError(f"a formula is text, not {type(text).__name__}", 0, 1, 1)
    if functions is None:
        functions = FUNCTIONS
    if len(text) > limits.max_length:
        raise FormulaSyntaxError.at(
            text, limits.max_length, f"formula is {len(text)} characters long",
            f"; at most {limits.max_length} are allowed: split it into several formula fields")
    return _Parser(text, functions, limits).formula()


class _Parser:
    def __init__(self, text: str, functions: Mapping, limits: ParseLimits):
        self.text = text
        self.functions = functions
        self.limits = limits
        self.source = lexer.iter_tokens(text, limits)
        self.tokens: list[Token] = []      # read so far (lazily: see lexer.iter_tokens)
        self.index = 0
        self.depth = 0          # current recursion depth (levels of brackets/operators)
        self.node_count = 0
        self.node_depth: dict[int, int] = {}   # id(node) -> levels of the tree below it
        self.references: dict[tuple[str, ...], None] = {}   # ordered set
        self.called: set[str] = set()
        self.volatile = False

    # ---- entry --------------------------------------------------------------------------
    def formula(self) -> Formula:
        first = self.peek()
        if first.kind == lexer.OP and self.text[first.start:first.end] == "=":
            self.index += 1                    # the leading "=" of spreadsheet habit
        if self.peek().kind == lexer.END:
            raise FormulaSyntaxError.at(self.text, len(self.text), "empty formula",
                                        "; write an expression such as amount * 2")
        tree = self.expression(0)
        token = self.peek()
        if token.kind != lexer.END:
            raise self.unexpected(token, self.missing_operator_hint(token))
        return Formula(self.text, tree, tuple(self.references), frozenset(self.called),
                       self.volatile)

    # ---- tokens -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        wanted = self.index + ahead
        while len(self.tokens) <= wanted and (not self.tokens or self.tokens[-1].kind != lexer.END):
            self.tokens.append(next(self.source))
        return self.tokens[min(wanted, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != lexer.END:
            self.index += 1
        return token

    def expect(self, kind: str, opener: Token | None = None) -> Token:
        token = self.peek()
        if token.kind == kind:
            return self.advance()
        if opener is not None and token.kind in (lexer.END, lexer.RBRACE, lexer.RPAREN):
            closer = ")" if opener.kind == lexer.LPAREN else "}"
            raise FormulaSyntaxError.at(self.text, opener.start, f"unclosed {opener.value!r}",
                                        f"; add {closer!r} to close it")
        hint = self.missing_operator_hint(token, inside_brackets=True) if kind == lexer.RPAREN \
            else f"; expected {kind!r}"
        raise self.unexpected(token, hint)

    def missing_operator_hint(self, token: Token, inside_brackets: bool = False) -> str:
        """Two values side by side: an operator (or a comma) is missing, or a text ended
        too early (`"say "hi""` ends after `"say "`)."""
        before = self.tokens[self.index - 1] if self.index else None
        if before is not None and before.kind == lexer.TEXT and before.end == token.start:
            return "; a text ended here: write a quote inside a text twice (\"\")"
        if inside_brackets:
            return "; a ',' between arguments or an operator such as + may be missing"
        return "; an operator such as + or & may be missing"

    def unexpected(self, token: Token, hint: str = "") -> FormulaSyntaxError:
        if token.kind == lexer.END:
            return FormulaSyntaxError.at(self.text, token.start, "formula ends too early",
                                         hint or "; a value is missing")
        shown = _show(token)
        return FormulaSyntaxError.at(self.text, token.start, f"unexpected {shown}", hint,
                                     width=max(1, token.end - token.start))

    # ---- nodes --------------------------------------------------------------------------
    def make(self, cls, first: Token | Node, last: Token | Node, *fields,
             operator: Token | None = None) -> Node:
        """A node spanning from `first` to `last`, with the limits on size and depth checked
        (an error about an operator's node points at the operator)."""
        start, end = first.start, last.end
        line, column = line_column(self.text, start)
        node = cls(start, end, line, column, *fields)
        self.node_count += 1
        if self.node_count > self.limits.max_nodes:
            raise FormulaSyntaxError.at(
                self.text, start, f"formula has more than {self.limits.max_nodes} parts",
                "; split it into several formula fields")
        depth = 1 + max((self.node_depth.get(id(child), 1) for child in node.children()),
                        default=0)
        if depth > self.limits.max_depth:
            raise self.too_deep(operator.start if operator else start)
        self.node_depth[id(node)] = depth
        return node

    def too_deep(self, offset: int) -> FormulaSyntaxError:
        return FormulaSyntaxError.at(
            self.text, offset,
            f"formula is nested more than {self.limits.max_depth} levels deep",
            "; use SUM/CONCAT over several values, or split it into several formula fields")

    # ---- expressions (Pratt) -------------------------------------------------------------
    def expression(self, min_power: int) -> Node:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise self.too_deep(self.peek().start)
        try:
            left = self.prefix()
            while True:
                token = self.peek()
                if token.kind != lexer.OP:
                    break
                if token.value == "%":
                    if PERCENT_POWER <= min_power:
                        break
                    self.advance()
                    left = self.make(Unary, left, token, "%", left, operator=token)
                    continue
                power = BINARY_POWER.get(token.value)
                if power is None or power <= min_power:
                    break
                self.advance()
                right = self.operand_after(token, power)
                left = self.make(Binary, left, right, token.value, left, right, operator=token)
            return left
        finally:
            self.depth -= 1

    def operand_after(self, operator: Token, power: int) -> Node:
        if self.peek().kind == lexer.END:
            raise FormulaSyntaxError.at(self.text, operator.start,
                                        f"{operator.value!r} has nothing after it",
                                        "; a value is missing")
        return self.expression(power)

    def prefix(self) -> Node:
        token = self.peek()
        kind = token.kind
        if kind == lexer.NUMBER:
            self.advance()
            return self.make(Number, token, token, self.number_value(token))
        if kind == lexer.TEXT:
            self.advance()
            return self.make(Text, token, token, token.value)
        if kind == lexer.NAME:
            return self.name()
        if kind == lexer.LPAREN:
            self.advance()
            if self.peek().kind == lexer.RPAREN:
                raise self.unexpected(self.peek(), "; empty brackets: put a value inside")
            inner = self.expression(0)
            self.expect(lexer.RPAREN, opener=token)
            return inner
        if kind == lexer.LBRACE:
            return self.array_literal()
        if kind == lexer.OP and token.value in ("-", "+"):
            self.advance()
            operand = self.operand_after(token, PREFIX_POWER)
            if token.value == "+":
                return operand            # unary plus changes nothing, as in Excel
            return self.make(Unary, token, operand, "-", operand)
        raise self.unexpected(token, "; a value (number, text, field or function) is expected")

    def number_value(self, token: Token) -> Decimal:
        try:
            value = Decimal(token.value)
        except InvalidOperation:   # the lexer's grammar makes this unreachable; be explicit
            raise self.unexpected(token) from None
        digits = len(value.as_tuple().digits)
        if digits > self.limits.max_number_digits:
            raise FormulaSyntaxError.at(
                self.text, token.start, f"number has {digits} digits",
                f"; at most {self.limits.max_number_digits} are kept exactly",
                width=token.end - token.start)
        if value and abs(value.adjusted()) > self.limits.max_number_exponent:
            raise FormulaSyntaxError.at(
                self.text, token.start, f"number {token.value} is out of range",
                f"; numbers go from 1E-{self.limits.max_number_exponent} to "
                f"1E+{self.limits.max_number_exponent}", width=token.end - token.start)
        return value

    # ---- names: TRUE/FALSE, fields, function calls ---------------------------------------
    def name(self) -> Node:
        first = self.advance()
        parts = [first]
        while self.peek().kind == lexer.DOT:
            dot = self.advance()
            if self.peek().kind != lexer.NAME:
                raise FormulaSyntaxError.at(self.text, dot.start,
                                            "'.' must be followed by a field key",
                                            ", as in customer.level")
            if dot.start != parts[-1].end or self.peek().start != dot.end:
                raise FormulaSyntaxError.at(
                    self.text, dot.start, "space around '.'",
                    "; write a field path without spaces, as in customer.level")
            parts.append(self.advance())
        if self.peek().kind == lexer.LPAREN:
            return self.call(parts)
        if len(parts) == 1 and first.value.upper() in ("TRUE", "FALSE"):
            return self.make(Boolean, first, first, first.value.upper() == "TRUE")
        if len(parts) > self.limits.max_path_length:
            raise FormulaSyntaxError.at(
                self.text, first.start, f"field path {'.'.join(p.value for p in parts)!r} "
                f"has {len(parts)} steps", f"; at most {self.limits.max_path_length} are allowed",
                width=parts[-1].end - first.start)
        path = tuple(part.value for part in parts)
        self.references.setdefault(path, None)
        return self.make(FieldRef, first, parts[-1], path)

    def call(self, parts: list[Token]) -> Node:
        name = ".".join(part.value for part in parts).upper()
        first = parts[0]
        spec = self.functions.get(name)
        if spec is None:
            raise self.unknown_function(name, first, parts[-1])
        opener = self.advance()
        args: list[Node] = []
        if self.peek().kind != lexer.RPAREN:
            while True:
                args.append(self.argument(name))
                if self.peek().kind != lexer.COMMA:
                    break
                self.advance()
        closer = self.expect(lexer.RPAREN, opener=opener)
        self.check_arity(name, spec, args, first, closer)
        self.called.add(name)
        self.volatile = self.volatile or bool(getattr(spec, "volatile", False))
        return self.make(Call, first, closer, name, tuple(args))

    def argument(self, name: str) -> Node:
        token = self.peek()
        if token.kind in (lexer.COMMA, lexer.RPAREN):
            raise FormulaSyntaxError.at(self.text, token.start, f"missing argument of {name}",
                                        "; write a value, or remove the extra ','")
        return self.expression(0)

    def unknown_function(self, name: str, first: Token, last: Token) -> FormulaSyntaxError:
        suggestion = did_you_mean(name, list(self.functions))
        hint = f", did you mean {suggestion}?" if suggestion else \
            "; see docs/formulas.md for the functions available"
        return FormulaSyntaxError.at(self.text, first.start, f"unknown function {name}", hint,
                                     width=last.end - first.start)

    def check_arity(self, name: str, spec, args: list[Node], first: Token, closer: Token) -> None:
        """Too many arguments: point at the first extra one; too few: at the ')'.
        A spec may add its own rule (IFS takes pairs) through `arity_problem`."""
        low, high = spec.min_args, spec.max_args
        count = len(args)
        if count < low or (high is not None and count > high):
            message = f"{name} {arity_text(low, high)}, got {count}"
        else:
            rule = getattr(spec, "arity_problem", None)
            message = rule(count) if rule else None
            if not message:
                return
        where = args[high] if high is not None and count > high else closer
        raise FormulaSyntaxError.at(self.text, where.start, message,
                                    width=max(1, where.end - where.start))

    # ---- {1, 2, 3} ------------------------------------------------------------------------
    def array_literal(self) -> Node:
        opener = self.advance()
        items: list[Node] = []
        if self.peek().kind != lexer.RBRACE:
            while True:
                items.append(self.array_item())
                if len(items) > self.limits.max_array_literal:
                    raise FormulaSyntaxError.at(
                        self.text, opener.start,
                        f"array literal has more than {self.limits.max_array_literal} items",
                        "; keep long lists in a subform")
                if self.peek().kind != lexer.COMMA:
                    break
                self.advance()
        closer = self.expect(lexer.RBRACE, opener=opener)
        return self.make(ArrayLiteral, opener, closer, tuple(items))

    def array_item(self) -> Node:
        """Array literals hold constants only (as in Excel): numbers, texts, TRUE/FALSE."""
        token = self.peek()
        if token.kind == lexer.OP and token.value == "-" and self.peek(1).kind == lexer.NUMBER:
            self.advance()
            number = self.advance()
            value = -self.number_value(number)
            return self.make(Number, token, number, value)
        if token.kind == lexer.NUMBER:
            self.advance()
            return self.make(Number, token, token, self.number_value(token))
        if token.kind == lexer.TEXT:
            self.advance()
            return self.make(Text, token, token, token.value)
        if token.kind == lexer.NAME and token.value.upper() in ("TRUE", "FALSE") \
                and self.peek(1).kind in (lexer.COMMA, lexer.RBRACE):
            self.advance()
            return self.make(Boolean, token, token, token.value.upper() == "TRUE")
        raise self.unexpected(token, "; an array literal holds numbers, texts and TRUE/FALSE "
                                     "only, e.g. {1, 2, 3}")


def arity_text(low: int, high: int | None) -> str:
    """ "takes 2 or 3 arguments", "takes 1 argument", "takes at least 1 argument"..."""
    def count(n: int) -> str:
        return f"{n} argument" + ("" if n == 1 else "s")

    if high is None:
        return f"takes at least {count(low)}"
    if low == high:
        return "takes no arguments" if low == 0 else f"takes {count(low)}"
    if high == low + 1:
        return f"takes {low} or {count(high)}"
    return f"takes {low} to {count(high)}"


def _show(token: Token) -> str:
    if token.kind == lexer.TEXT:
        return "text " + repr(token.value if len(token.value) < 30 else token.value[:27] + "...")
    if token.kind == lexer.NUMBER:
        return f"number {token.value}"
    if token.kind == lexer.NAME:
        return f"name {token.value!r}"
    return repr(token.value)
