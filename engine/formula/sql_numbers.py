"""Numbers of formulas in SQL: exact, with the reference evaluator's results.

The reference computes on Decimals rounded to 34 significant digits after every step
(values.FORMULA_CONTEXT). The two databases hold numbers differently:

- PostgreSQL: NUMERIC, exact. Sums, differences and products are exact; a result
  that may need more than 34 significant digits (known from the operands' shapes, see
  sql_values.SqlValue) is rounded to 34, half to even, as the reference does. A
  quotient is computed with guard digits, then rounded the same way.
- SQLite: no decimal type, and number fields are stored as integers scaled by their
  decimal places (storage/types.py ExactDecimal). A formula number is likewise an
  INTEGER scaled by a static `scale`, so + - * %, ROUND, INT, MOD... are exact
  integer arithmetic. What SQLite cannot hold exactly (a product past 64 bits, a
  quotient, a literal of 20 digits) becomes a REAL, as SQLite itself does on integer
  overflow. A REAL stays a REAL through further arithmetic, so it marks the rows where
  a value is not exact ("poison"): every node that needs a number exactly (a
  comparison, a condition, a conversion to text, MIN/MAX...) checks for it with
  typeof() and computes itself in Python instead (sql_sqlite.py), for those rows only.

Every operation takes and returns `SqlValue`s of kind "number"; blanks count as 0.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence

import sqlalchemy as sa

from engine.formula.sql_values import NOT_CONSTANT as _NC, SqlValue, error_when, first_error, joined, pick

SIGNIFICANT = 34               # digits the reference keeps (values.FORMULA_CONTEXT.prec)
MAX_EXPONENT = 308             # values.MAX_EXPONENT: 1E+309 and beyond is #NUM!
INT_ARG_LIMIT = 15             # values.to_int: counts of 1E+15 and beyond are #NUM!
INT64_DIGITS = 18              # every integer of 18 digits fits SQLite's 64 bits
TEXT_DIGITS = 15               # values.format_number: 15 significant digits in text
MAX_POWER = 16                 # x^n runs in SQL for a constant whole n from 0 to this
_GUARD_DIGITS = 10             # extra digits of a PostgreSQL quotient before rounding


class Numbers:
    """The number operations of one dialect; `lit` makes typed literals."""

    def __init__(self, literals):
        self.lit = literals

    # ---- shapes (dialect-independent) ---------------------------------------------------
    @staticmethod
    def shape_of(value: Decimal) -> dict:
        exponent = value.as_tuple().exponent
        scale = max(-exponent, 0) if isinstance(exponent, int) else 0
        int_digits = max(value.adjusted() + 1, 0) if value else 0
        return {"scale": scale, "int_digits": int_digits, "digits": len(value.as_tuple().digits)}

    @staticmethod
    def joined_scale(*values: SqlValue) -> int | None:
        scales = [v.scale for v in values]
        return None if None in scales else max(scales)

    def number(self, value: Any, error: Any = None, *, scale: int | None, int_digits: int,
               digits: int, poison: bool = False, nullable: bool = False,
               maybe_date: bool = False) -> SqlValue:
        return SqlValue("number", value, error, nullable=nullable, scale=scale,
                        int_digits=int_digits, digits=digits, poison=poison,
                        maybe_date=maybe_date)

    def zero(self) -> SqlValue:
        return self.const(Decimal(0))

    def value_or_zero(self, x: SqlValue) -> Any:
        return sa.func.coalesce(x.value, self.raw_zero()) if x.nullable else x.value

    # ---- to be given by each dialect ------------------------------------------------------
    def const(self, value: Decimal) -> SqlValue:
        raise NotImplementedError

    def raw_zero(self) -> Any:
        raise NotImplementedError


# ============================================================================================
# PostgreSQL: NUMERIC
# ============================================================================================

class PostgresNumbers(Numbers):
    def const(self, value: Decimal) -> SqlValue:
        shape = self.shape_of(value)
        return self.number(self.lit.numeric(value), **shape).but(leaf=True)

    def raw_zero(self) -> Any:
        return self.lit.numeric(Decimal(0))

    def column(self, expr: Any, scale: int, int_digits: int, digits: int) -> SqlValue:
        stored = getattr(expr, "type", None)
        numeric = isinstance(getattr(stored, "impl", stored), sa.Numeric)
        # A NUMERIC column is read as it is (its type decorator must not round the
        # constants it is compared with); integer columns become NUMERIC, so / is exact.
        value = sa.type_coerce(expr, sa.Numeric()) if numeric else sa.cast(expr, sa.Numeric())
        return self.number(value, scale=scale, int_digits=int_digits, digits=digits,
                           nullable=True).but(leaf=True)

    def from_int(self, expr: Any, int_digits: int, nullable: bool = False) -> SqlValue:
        return self.number(sa.cast(expr, sa.Numeric()), scale=0, int_digits=int_digits,
                           digits=int_digits, nullable=nullable)

    # ---- arithmetic ---------------------------------------------------------------------
    def add(self, a: SqlValue, b: SqlValue, subtract: bool = False) -> SqlValue:
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        scale = self.joined_scale(a, b)
        int_digits = max(a.int_digits, b.int_digits) + 1
        digits = int_digits + scale if scale is not None else SIGNIFICANT + 1
        return self.exact(self.number(x - y if subtract else x + y, first_error(a, b), scale=scale,
                                      int_digits=int_digits, digits=digits), (a, b))

    def mul(self, a: SqlValue, b: SqlValue) -> SqlValue:
        scale = None if None in (a.scale, b.scale) else a.scale + b.scale
        return self.exact(self.number(self.value_or_zero(a) * self.value_or_zero(b),
                                      first_error(a, b), scale=scale,
                                      int_digits=a.int_digits + b.int_digits,
                                      digits=a.digits + b.digits), (a, b))

    def neg(self, a: SqlValue) -> SqlValue:
        unrounded = None if a.unrounded is None else -self.unrounded_or_zero(a)
        return a.but(value=-self.value_or_zero(a), nullable=False, constant=_NC, maybe_date=False,
                     unrounded=unrounded)

    def percent(self, a: SqlValue) -> SqlValue:
        value = self.value_or_zero(a) * self.lit.numeric(Decimal("0.01"))
        return a.but(value=value, nullable=False, constant=_NC, maybe_date=False,
                     scale=None if a.scale is None else a.scale + 2,
                     int_digits=max(a.int_digits - 2, 0))

    def div(self, a: SqlValue, b: SqlValue) -> SqlValue:
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        # Enough decimal places that even the smallest quotient has 34 digits and guards.
        smallest = (a.scale if a.scale is not None else SIGNIFICANT) + b.int_digits
        places = min(SIGNIFICANT + smallest + _GUARD_DIGITS, 1000)
        padded = x + self.lit.numeric(Decimal(0).scaleb(-places))
        quotient = padded / sa.func.nullif(y, self.raw_zero())
        error = first_error(a, b, error_when(y == self.raw_zero(), self.lit.text("#DIV/0!")))
        int_digits = a.int_digits + (b.scale if b.scale is not None else SIGNIFICANT)
        return self.exact(self.number(quotient, error, scale=None, int_digits=int_digits,
                                      digits=SIGNIFICANT + 1))

    def power(self, a: SqlValue, n: int) -> SqlValue:
        """a^n for a constant whole n (0 <= n <= MAX_POWER), as repeated products."""
        x = self.value_or_zero(a)
        if n == 0:
            error = first_error(a, error_when(x == self.raw_zero(), self.lit.text("#NUM!")))
            return self.number(self.lit.numeric(Decimal(1)), error, scale=0, int_digits=1, digits=1)
        product = x
        for _ in range(n - 1):
            product = product * x
        return self.exact(self.number(product, first_error(a),
                                      scale=None if a.scale is None else a.scale * n,
                                      int_digits=a.int_digits * n, digits=a.digits * n), [a] * n)

    # ---- the reference's rounding to 34 digits, and its range ---------------------------
    def exact(self, v: SqlValue, operands: Sequence[SqlValue] = ()) -> SqlValue:
        """`v` rounded as the reference rounds: to 34 significant digits, half to even,
        when its shape says it may have more; #NUM! past 1E+308.

        Most rows have far fewer digits. When the operands are plain columns or
        constants, a test of their sizes lets those rows keep the value as it is;
        otherwise the test is made inside the rounding's subquery, so the value is
        written once (nested products stay linear in size)."""
        if v.digits > SIGNIFICANT:
            small = self._small_operands(operands, v.scale)
            if small is not None:
                rounded = pick(small, v.value, self._round_significant(v.value, None))
            else:
                rounded = self._round_significant(v.value, v.scale)
            # Below 10**(34 - scale) the exact value has at most 34 digits, so the
            # rounding keeps it; at or beyond, the rounded value is too (10**n is a
            # 34-digit number and rounding is monotone), with the same sign.
            unrounded = (v.value, SIGNIFICANT - v.scale) if v.scale is not None else (None, 0)
            v = v.but(value=rounded, digits=SIGNIFICANT,
                      scale=v.scale if v.scale is not None and v.scale <= SIGNIFICANT else None,
                      unrounded=unrounded[0], unrounded_below=unrounded[1])
        if v.int_digits > MAX_EXPONENT:
            too_big = sa.func.abs(v.value) >= self.lit.numeric(Decimal(1).scaleb(MAX_EXPONENT + 1))
            v = v.but(error=first_error(v, error_when(too_big, self.lit.text("#NUM!"))),
                      int_digits=MAX_EXPONENT + 1)
        return v

    def _small_operands(self, operands: Sequence[SqlValue], scale: int | None) -> Any:
        """A test that the operands are small enough for an exact result of at most 34
        digits, when they are all cheap to write twice (columns, constants); else None."""
        if not operands or scale is None or not all(o.leaf and o.scale is not None for o in operands):
            return None
        room = SIGNIFICANT - scale - (len(operands) - 1)     # sums may carry one digit more
        if room < len(operands):
            return None
        share = room // len(operands)
        tests = [sa.func.abs(self.value_or_zero(o)) < self.lit.numeric(Decimal(1).scaleb(share))
                 for o in operands]
        return sa.and_(*tests)

    def _round_significant(self, value: Any, scale: int | None) -> Any:
        """`value` rounded to 34 significant digits, half to even, in a scalar subquery
        that names the value once (with `scale`, values short enough are kept as they are)."""
        # OFFSET 0 keeps PostgreSQL from inlining the derived tables, which would write
        # the value out once per use (exponential in nested products).
        inner = sa.select(value.label("x")).correlate_except(None).offset(0).subquery("fw_x")
        x = inner.c.x
        places = (SIGNIFICANT - 1) - _exponent(x)
        step = sa.select(x.label("x"), places.label("n")).offset(0).subquery("fw_n")
        x, n = step.c.x, step.c.n
        ten = self.lit.numeric(Decimal(10))
        kept = sa.func.trunc(x, n)
        half = sa.func.abs(x - kept) == self.lit.numeric(Decimal(5)) * sa.func.power(ten, -n - 1)
        even = sa.func.mod(sa.func.trunc(sa.func.abs(kept) * sa.func.power(ten, n)), 2) == 0
        cases = [(x == self.raw_zero(), x)]
        if scale is not None:
            cases.append((sa.func.abs(x) < self.lit.numeric(Decimal(1).scaleb(SIGNIFICANT - scale)), x))
        cases.append((sa.and_(half, even), kept))
        return sa.select(sa.case(*cases, else_=sa.func.round(x, n))).scalar_subquery()

    # ---- rounding functions ---------------------------------------------------------------
    def round(self, a: SqlValue, places: int, mode: str) -> SqlValue:
        """ROUND (half_up), ROUNDUP (up), ROUNDDOWN/TRUNC (down), INT (floor) to `places`."""
        result = self._rounded(a, self._round_sql(self.value_or_zero(a), places, mode), places)
        if a.unrounded is not None and a.unrounded_below >= -places:
            # every mode is monotone and keeps 10**unrounded_below (a multiple of
            # 10**-places) as it is, so what held of the operand holds of the result
            unrounded = self._round_sql(self.unrounded_or_zero(a), places, mode)
            result = result.but(unrounded=unrounded, unrounded_below=a.unrounded_below)
        return result

    def _round_sql(self, x: Any, places: int, mode: str) -> Any:
        if mode == "half_up":
            return sa.func.round(x, places)
        if mode == "down":
            return sa.func.trunc(x, places)
        shift = self.lit.numeric(Decimal(1).scaleb(places))
        back = self.lit.numeric(Decimal(1).scaleb(-places))
        if mode == "floor":
            return sa.func.floor(x * shift) * back
        # away from zero
        return pick(x < self.raw_zero(), sa.func.floor(x * shift), sa.func.ceil(x * shift)) * back

    def unrounded_or_zero(self, x: SqlValue) -> Any:
        return sa.func.coalesce(x.unrounded, self.raw_zero()) if x.nullable else x.unrounded

    def _rounded(self, a: SqlValue, value: Any, places: int) -> SqlValue:
        scale = max(places, 0) if a.scale is None or a.scale > places else a.scale
        result = self.number(value, first_error(a), scale=scale, int_digits=a.int_digits + 1,
                             digits=a.int_digits + 1 + scale)
        return result.but(error=first_error(result, self._quantize_error(a, places)))

    def _quantize_error(self, a: SqlValue, places: int) -> Any:
        """The reference's quantize refuses a result of more than 34 digits when the
        number has more decimal places than asked (values ROUND(1E+33 + 0.5, 2))."""
        if a.int_digits + places <= SIGNIFICANT or (a.scale is not None and a.scale <= places):
            return None
        x = self.value_or_zero(a)
        big = sa.func.abs(x) >= self.lit.numeric(Decimal(1).scaleb(SIGNIFICANT - places))
        return error_when(sa.and_(big, sa.func.scale(x) > places), self.lit.text("#NUM!"))

    def to_multiple(self, a: SqlValue, step: SqlValue, up: bool) -> SqlValue:
        """CEILING (up) and FLOOR: the multiple of `step` the reference picks, by exact
        integer division (sign rules and errors are the translator's)."""
        x, s = self.value_or_zero(a), self.value_or_zero(step)
        safe = sa.func.nullif(s, self.raw_zero())
        whole = sa.func.div(x, safe)
        remainder = sa.func.mod(x, safe)
        same_sign = (x > self.raw_zero()) == (s > self.raw_zero())
        if up:
            k = whole + pick(sa.and_(remainder != self.raw_zero(), same_sign), 1, 0)
        else:
            k = whole - pick(sa.and_(remainder != self.raw_zero(), sa.not_(same_sign)), 1, 0)
        scale = self.joined_scale(a, step)
        int_digits = max(a.int_digits, step.int_digits) + 1
        return self.exact(self.number(k * s, first_error(a, step), scale=scale, int_digits=int_digits,
                                      digits=int_digits + (scale if scale is not None else SIGNIFICANT)))

    def mod(self, a: SqlValue, b: SqlValue) -> SqlValue:
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        remainder = sa.func.mod(x, sa.func.nullif(y, self.raw_zero()))
        flip = sa.and_(remainder != self.raw_zero(), (remainder < self.raw_zero()) != (y < self.raw_zero()))
        value = pick(flip, remainder + y, remainder)
        errors = [error_when(y == self.raw_zero(), self.lit.text("#DIV/0!"))]
        if a.int_digits + (b.scale if b.scale is not None else SIGNIFICANT) >= SIGNIFICANT:
            # the reference's remainder needs the whole quotient in 34 digits
            limit = sa.func.abs(y) * self.lit.numeric(Decimal(1).scaleb(SIGNIFICANT))
            errors.append(error_when(sa.func.abs(x) >= limit, self.lit.text("#NUM!")))
        scale = self.joined_scale(a, b)
        return self.number(value, first_error(a, b, *errors), scale=scale,
                           int_digits=b.int_digits, digits=b.digits + (scale or 0))

    def abs(self, a: SqlValue) -> SqlValue:
        return a.but(value=sa.func.abs(self.value_or_zero(a)), nullable=False, constant=_NC,
                     maybe_date=False)

    def sign(self, a: SqlValue) -> SqlValue:
        return self.number(sa.func.sign(self.value_or_zero(a)), first_error(a), scale=0,
                           int_digits=1, digits=1)

    def extreme(self, values: Sequence[SqlValue], largest: bool) -> SqlValue:
        """MAX/MIN of single values: blanks are skipped, 0 when all are blank."""
        exprs = [v.value for v in values]
        picked = (sa.func.greatest if largest else sa.func.least)(*exprs)
        value = sa.func.coalesce(picked, self.raw_zero()) if all(v.nullable for v in values) else picked
        scale = self.joined_scale(*values)
        return self.number(value, first_error(*values), scale=scale,
                           int_digits=max(v.int_digits for v in values),
                           digits=max(v.digits for v in values),
                           maybe_date=all(v.maybe_date for v in values))

    # ---- comparisons and conversions -----------------------------------------------------
    def aligned(self, *values: SqlValue) -> list[SqlValue]:
        return list(values)          # NUMERIC values need no common scale

    def compare(self, op: str, a: SqlValue, b: SqlValue) -> Any:
        """a op b. A side rounded to 34 digits is compared unrounded when the other is
        known to be smaller than where the rounding starts (`SqlValue.unrounded`): a
        row where the two differ is beyond the other side either way. So
        ROUND(amount * rate%, 2) > 500 needs no 34-digit guard, whatever the fields hold."""
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        if a.unrounded is not None and b.int_digits < a.unrounded_below:
            x = self.unrounded_or_zero(a)
        elif b.unrounded is not None and a.int_digits < b.unrounded_below:
            y = self.unrounded_or_zero(b)
        return _COMPARE[op](x, y)

    def is_zero(self, a: SqlValue) -> Any:
        if a.unrounded is not None and a.unrounded_below > 0:    # 0 is below 10**n
            return self.unrounded_or_zero(a) == self.raw_zero()
        return self.value_or_zero(a) == self.raw_zero()

    def is_negative(self, a: SqlValue) -> Any:
        return self.value_or_zero(a) < self.raw_zero()

    def to_int(self, a: SqlValue) -> tuple[Any, Any]:
        """A count or position (values.to_int): (SQL integer, error expression)."""
        x = self.value_or_zero(a)
        if a.int_digits <= INT_ARG_LIMIT:
            return sa.cast(sa.func.trunc(x), sa.BigInteger), None
        too_big = sa.func.abs(x) >= self.lit.numeric(Decimal(10) ** INT_ARG_LIMIT)
        whole = sa.cast(sa.func.trunc(pick(too_big, self.raw_zero(), x)), sa.BigInteger)
        return whole, error_when(too_big, self.lit.text("#NUM!"))

    def to_text(self, a: SqlValue) -> tuple[Any, Any]:
        """The number as text (values.format_number); no row needs Python here."""
        x = self.value_or_zero(a)
        plain = sa.cast(sa.func.trim_scale(x), sa.Text)
        if a.scale is not None and a.scale <= 9 and a.int_digits + a.scale <= TEXT_DIGITS:
            return plain, None
        if a.scale is not None and a.scale <= 9:
            short = sa.func.abs(x) < self.lit.numeric(Decimal(10) ** (TEXT_DIGITS - a.scale))
            return pick(short, plain, self._general_text(x)), None
        return self._general_text(x), None

    def _general_text(self, value: Any) -> Any:
        """Excel's General format in SQL: 15 significant digits, rounded half up;
        plain notation from 1E-9 up to 1E+21, else 1.5E+21."""
        source = sa.select(value.label("x")).correlate_except(None).offset(0).subquery("fw_t")
        x = source.c.x
        first = sa.select(x.label("x"), sa.func.round(x, (TEXT_DIGITS - 1) - _exponent(x)).label("r")) \
            .offset(0).subquery("fw_r")
        r = first.c.r
        second = sa.select(first.c.x, r, _exponent(r).label("e")).offset(0) \
            .subquery("fw_e")
        x, r, e = second.c.x, second.c.r, second.c.e
        ten = self.lit.numeric(Decimal(10))
        mantissa = sa.cast(sa.func.trim_scale(r / sa.func.power(ten, e)), sa.Text)
        scientific = joined(mantissa, self.lit.text("E"), pick(e > 0, self.lit.text("+"), self.lit.text("-")),
                            sa.func.lpad(sa.cast(sa.func.abs(e), sa.Text), 2, "0"))
        plain = sa.cast(sa.func.trim_scale(r), sa.Text)
        text = sa.case((x == self.raw_zero(), self.lit.text("0")),
                       (sa.and_(e > -10, e < 21), plain), else_=scientific)
        return sa.select(text).scalar_subquery()

    def poisoned(self, a: SqlValue) -> Any:
        return None


# ============================================================================================
# SQLite: integers scaled by a static number of decimal places
# ============================================================================================

class SqliteNumbers(Numbers):
    def const(self, value: Decimal) -> SqlValue:
        shape = self.shape_of(value)
        scaled = value.scaleb(shape["scale"])
        if shape["int_digits"] + shape["scale"] <= INT64_DIGITS:
            return self.number(self.lit.integer(int(scaled)), **shape)
        return self.number(self.lit.real(float(scaled)), poison=True, **shape)

    def raw_zero(self) -> Any:
        return self.lit.integer(0)

    def column(self, expr: Any, scale: int, int_digits: int, digits: int) -> SqlValue:
        return self.number(sa.type_coerce(expr, sa.BigInteger()), scale=scale, int_digits=int_digits,
                           digits=digits, nullable=True)

    def from_int(self, expr: Any, int_digits: int, nullable: bool = False) -> SqlValue:
        return self.number(expr, scale=0, int_digits=int_digits, digits=int_digits, nullable=nullable)

    def aligned(self, *values: SqlValue) -> list[SqlValue]:
        """The values at one scale (blanks stay blank). A value may not fit 64 bits at the
        larger scale: its `poison` flag says so, for whoever needs it exactly."""
        scale = max(v.scale for v in values)
        return [v if v.scale == scale else self._rescaled(v, scale) for v in values]

    def _rescaled(self, v: SqlValue, scale: int) -> SqlValue:
        poison = v.poison or v.int_digits + scale > INT64_DIGITS
        if v.is_constant and type(v.constant) is Decimal and not poison:   # 500 at 2 places: 50000
            value = self.lit.integer(int(v.constant.scaleb(scale)))
        else:
            value = v.value * self._power_of_ten(scale - v.scale)
        return v.but(value=value, scale=scale, constant=_NC, leaf=False, poison=poison)

    def _power_of_ten(self, n: int) -> Any:
        return self.lit.integer(10 ** n) if n <= INT64_DIGITS else self.lit.real(_float_power(n))

    def _result(self, value: Any, error: Any, scale: int, int_digits: int, digits: int,
                *inputs: SqlValue, maybe_date: bool = False) -> SqlValue:
        poison = any(v.poison for v in inputs) or int_digits + scale > INT64_DIGITS
        return self.number(value, error, scale=scale, int_digits=int_digits, digits=digits,
                           poison=poison, maybe_date=maybe_date)

    # ---- arithmetic ---------------------------------------------------------------------
    def add(self, a: SqlValue, b: SqlValue, subtract: bool = False) -> SqlValue:
        a, b = self.aligned(a, b)
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        int_digits = max(a.int_digits, b.int_digits) + 1
        return self._result(x - y if subtract else x + y, first_error(a, b), a.scale, int_digits,
                            int_digits + a.scale, a, b)

    def mul(self, a: SqlValue, b: SqlValue) -> SqlValue:
        return self._result(self.value_or_zero(a) * self.value_or_zero(b), first_error(a, b),
                            a.scale + b.scale, a.int_digits + b.int_digits, a.digits + b.digits, a, b)

    def neg(self, a: SqlValue) -> SqlValue:
        return a.but(value=-self.value_or_zero(a), nullable=False, constant=_NC, maybe_date=False)

    def percent(self, a: SqlValue) -> SqlValue:
        # x% is x / 100: the same integer, two more decimal places
        return a.but(value=self.value_or_zero(a), nullable=False, constant=_NC, maybe_date=False,
                     scale=a.scale + 2, int_digits=max(a.int_digits - 2, 0))

    def div(self, a: SqlValue, b: SqlValue) -> SqlValue:
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        error = first_error(a, b, error_when(y == 0, self.lit.text("#DIV/0!")))
        shift = _power_of_ten_constant(b)
        if shift is not None:       # x / 100: exact, as a shift of the decimal point
            sign, places = shift
            value = x if sign > 0 else -x
            if places >= 0:
                return self._result(value, error, a.scale + places, max(a.int_digits - places, 0),
                                    a.digits, a)
            return self._result(value * self._power_of_ten(-places), error, a.scale,
                                a.int_digits - places, a.digits, a)
        scale = max(a.scale, b.scale)
        approx = sa.cast(x, sa.Float()) / y * self.lit.real(_float_power(scale + b.scale - a.scale))
        int_digits = a.int_digits + b.scale
        return self.number(approx, error, scale=scale, int_digits=int_digits,
                           digits=SIGNIFICANT, poison=True)

    def power(self, a: SqlValue, n: int) -> SqlValue:
        x = self.value_or_zero(a)
        if n == 0:
            error = first_error(a, error_when(x == 0, self.lit.text("#NUM!")))
            return self.number(self.lit.integer(1), error, scale=0, int_digits=1, digits=1)
        product = x
        for _ in range(n - 1):
            product = product * x
        return self._result(product, first_error(a), a.scale * n, a.int_digits * n,
                            a.digits * n, a)

    # ---- rounding -------------------------------------------------------------------------
    def round(self, a: SqlValue, places: int, mode: str) -> SqlValue:
        x = self.value_or_zero(a)
        if places >= a.scale:
            return a.but(value=x, nullable=False, constant=_NC, maybe_date=False)
        cut = a.scale - places
        if cut > INT64_DIGITS:
            # The integer of 10**cut does not fit 64 bits: an approximation, computed
            # exactly in Python by the node that needs it (see the module docstring).
            approx = sa.cast(x, sa.Float()) / self.lit.real(_float_power(cut))
            scale = max(places, 0)
            return self.number(approx * self.lit.real(_float_power(scale)), first_error(a),
                               scale=scale, int_digits=a.int_digits + 1,
                               digits=a.int_digits + 1 + scale, poison=True)
        q = self.lit.integer(10 ** cut)
        negative = x < 0
        if mode == "half_up":
            half = self.lit.integer(10 ** cut // 2)
            value = (x + pick(negative, -half, half)) // q
        elif mode == "down":
            value = x // q
        elif mode == "up":
            most = self.lit.integer(10 ** cut - 1)
            value = (x + pick(negative, -most, most)) // q
        else:   # floor
            value = x // q - pick(sa.and_(negative, x % q != 0), 1, 0)
        scale = max(places, 0)
        if places < 0:
            value = value * self._power_of_ten(-places)
        return self._result(value, first_error(a), scale, a.int_digits + 1, a.int_digits + 1 + scale, a)

    def to_multiple(self, a: SqlValue, step: SqlValue, up: bool) -> SqlValue:
        a, step = self.aligned(a, step)
        scale = a.scale
        x, s = self.value_or_zero(a), self.value_or_zero(step)
        whole, remainder = x // s, x % s           # NULL for s = 0: the error says why
        same_sign = (x > 0) == (s > 0)
        if up:
            k = whole + pick(sa.and_(remainder != 0, same_sign), 1, 0)
        else:
            k = whole - pick(sa.and_(remainder != 0, sa.not_(same_sign)), 1, 0)
        int_digits = max(a.int_digits, step.int_digits) + 1
        return self._result(k * s, first_error(a, step), scale, int_digits, int_digits + scale, a, step)

    def mod(self, a: SqlValue, b: SqlValue) -> SqlValue:
        a, b = self.aligned(a, b)
        scale = a.scale
        x, y = self.value_or_zero(a), self.value_or_zero(b)
        remainder = x % y
        flip = sa.and_(remainder != 0, (remainder < 0) != (y < 0))
        value = pick(flip, remainder + y, remainder)
        error = first_error(a, b, error_when(y == 0, self.lit.text("#DIV/0!")))
        return self._result(value, error, scale, b.int_digits, b.int_digits + scale, a, b)

    def abs(self, a: SqlValue) -> SqlValue:
        x = self.value_or_zero(a)     # not abs(): it raises on the smallest 64-bit integer
        return a.but(value=pick(x < 0, -x, x), nullable=False, constant=_NC, maybe_date=False)

    def sign(self, a: SqlValue) -> SqlValue:
        return self.number(sa.func.sign(self.value_or_zero(a)), first_error(a), scale=0,
                           int_digits=1, digits=1)

    def extreme(self, values: Sequence[SqlValue], largest: bool) -> SqlValue:
        values = self.aligned(*values)
        scale = values[0].scale
        exprs = [v.value for v in values]
        if len(exprs) == 1:
            picked = exprs[0]
        else:
            # SQLite's max(a, b) is NULL when one is: each value stands in for a blank
            picked = (sa.func.max if largest else sa.func.min)(
                *[sa.func.coalesce(expr, *[e for e in exprs if e is not expr]) for expr in exprs])
        value = sa.func.coalesce(picked, 0) if all(v.nullable for v in values) else picked
        int_digits = max(v.int_digits for v in values)
        return self._result(value, first_error(*values), scale, int_digits,
                            int_digits + scale, *values, maybe_date=all(v.maybe_date for v in values))

    # ---- comparisons and conversions -----------------------------------------------------
    def compare(self, op: str, a: SqlValue, b: SqlValue) -> Any:
        a, b = self.aligned(a, b)
        return _COMPARE[op](self.value_or_zero(a), self.value_or_zero(b))

    def is_zero(self, a: SqlValue) -> Any:
        return self.value_or_zero(a) == 0

    def is_negative(self, a: SqlValue) -> Any:
        return self.value_or_zero(a) < 0

    def to_int(self, a: SqlValue) -> tuple[Any, Any]:
        x = self.value_or_zero(a)
        whole = x // self._power_of_ten(a.scale) if a.scale else x
        if a.int_digits <= INT_ARG_LIMIT:
            return whole, None
        limit = self._power_of_ten(INT_ARG_LIMIT + a.scale)
        return whole, error_when(sa.or_(x <= -limit, x >= limit), self.lit.text("#NUM!"))

    def to_text(self, a: SqlValue) -> tuple[Any, Any]:
        """The number as text where SQLite can write it exactly (up to 15 digits, at
        most 9 decimal places); the returned condition marks the rows Python must write."""
        x = self.value_or_zero(a)
        if a.scale > 9:
            return self.lit.text(""), sa.true()
        if a.scale == 0:
            text = sa.cast(x, sa.Text)
        else:
            q = self.lit.integer(10 ** a.scale)
            size = pick(x < 0, -x, x)
            fraction = size % q
            digits = sa.func.rtrim(sa.func.printf(f"%0{a.scale}d", fraction), "0")
            decimals = joined(self.lit.text("."), digits)
            text = joined(pick(x < 0, self.lit.text("-"), self.lit.text("")), sa.cast(size // q, sa.Text),
                          pick(fraction == 0, self.lit.text(""), decimals))
        limit = 10 ** TEXT_DIGITS
        if a.int_digits + a.scale <= TEXT_DIGITS and not a.poison:
            return text, None
        inexact = sa.or_(sa.func.typeof(x) == "real", x <= -limit, x >= limit)
        return text, inexact

    def poisoned(self, a: SqlValue) -> Any:
        if not a.poison:
            return None
        return sa.func.typeof(a.value) == "real"


def _exponent(x: Any) -> Any:
    """PostgreSQL: the exponent of a NUMERIC's first significant digit (2 for 123.45,
    -3 for 0.00123), from its digits as text and its scale; any value for 0."""
    digits = sa.func.length(sa.func.ltrim(sa.func.replace(sa.cast(sa.func.abs(x), sa.Text), ".", ""), "0"))
    return digits - sa.func.scale(x) - 1


def _float_power(n: int) -> float:
    """10**n as a float (inf past the float range, never OverflowError)."""
    return float(Decimal(1).scaleb(n))


def _power_of_ten_constant(b: SqlValue) -> tuple[int, int] | None:
    """(sign, n) when `b` is the constant ±10**n, else None."""
    if not b.is_constant or type(b.constant) is not Decimal or not b.constant:
        return None
    magnitude = abs(b.constant).normalize()
    digits, exponent = magnitude.as_tuple().digits, magnitude.as_tuple().exponent
    if digits != (1,) or not isinstance(exponent, int):
        return None
    return (1 if b.constant > 0 else -1), exponent


_COMPARE = {
    "=": lambda x, y: x == y, "<>": lambda x, y: x != y, "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}
