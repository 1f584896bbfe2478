"""Log format v1's rules over typed columns: what `tierwatch rollup` checks a lake's rows
against before an engine sums them (docs/scale.md).

The rules are the schema's (`log_format_v1.schema.json`, read by ingest/validate.py), the
same ones `tierwatch ingest` applies to a file's records, with the same reasons ("input_tokens
is -5, must be an integer >= 0"). Here the values are already typed (a Parquet column has
one type), so what is left of each rule is the set-wise check of a typed value: present
when required, within its bounds, one of its words, a tier on the ladder. A column of the
wrong type is the lake's problem, not a row's: `column_problems` names it.

The SQL is written once, in the portable subset DuckDB and Spark share (case, ||,
concat_ws, joins); ingest/spark_rollup.py carries it to Spark with the rest.
"""

from __future__ import annotations

from tierwatch.ingest.validate import Field, attempt_fields, downstream_fields, sql_literal

# the type families a lake column of each kind may have, as DuckDB and Spark name them
_FAMILIES = {
    "string": ("varchar", "string"),
    "enum": ("varchar", "string"),
    "tier": ("varchar", "string"),
    "integer": ("tinyint", "smallint", "integer", "int", "bigint", "long", "short", "byte"),
    "number": ("double", "float", "real", "decimal", "integer", "int", "bigint", "long"),
    "confidence": ("double", "float", "real", "decimal"),
    "boolean": ("boolean",),
    "timestamp": ("timestamp", "timestamp_ntz", "timestamp with time zone", "timestamptz"),
}
_SAID = {
    "string": "a string column",
    "enum": "a string column",
    "tier": "a string column",
    "integer": "an integer column",
    "number": "a numeric column",
    "confidence": "a floating-point column (0 to 1)",
    "boolean": "a boolean column",
    "timestamp": "a timestamp column",
}

# the columns a lake's attempts carry beyond the format's fields (ingest/lake_attempts.sql)
EXTRA_COLUMNS = {"confidence_label": "string", "extra": "string", "record_hash": "string"}


def _lake_fields(fields: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple(f for f in fields if f.name != "record")  # a lake's tables are one kind


def lake_attempt_fields() -> tuple[Field, ...]:
    return _lake_fields(attempt_fields())


def lake_downstream_fields() -> tuple[Field, ...]:
    return _lake_fields(downstream_fields())


def column_problems(
    table: str, columns: dict[str, str], fields: tuple[Field, ...], where: str
) -> list[str]:
    """What is wrong with a lake table's columns (name -> type, lower case, as the engine
    reads them): a required field's column missing, or any known column of a type its kind
    cannot have. One sentence each, naming the column, its type and what to write."""
    problems = []
    for f in fields:
        kind = columns.get(f.name)
        if kind is None:
            if f.required:
                problems.append(
                    f"{where}: {table} has no column {f.name}; every row needs it "
                    f"({_SAID[f.kind]}, docs/scale.md lists the layout)"
                )
            continue
        if not kind.startswith(_FAMILIES[f.kind]):
            problems.append(
                f"{where}: {table} column {f.name} is {kind}, must be {_SAID[f.kind]}; "
                "rewrite the lake's files with that type"
            )
    for name, kind in EXTRA_COLUMNS.items():
        if name in columns and not columns[name].startswith(_FAMILIES[kind]):
            problems.append(
                f"{where}: {table} column {name} is {columns[name]}, must be a string column"
            )
    return problems


def _shown(v: str) -> str:
    """A bad value as a reason shows it: text quoted, at most 60 characters."""
    text = f"cast({v} as varchar)"
    return (
        f"(case when length({text}) > 60 then concat(substr({text}, 1, 57), '...') else {text} end)"
    )


def _field_checks(f: Field, v: str, ladder_hit: str | None) -> list[tuple[str, str]]:
    """(condition making the typed value `v` bad, its reason SQL), first failing first; the
    reasons are ingest's (ingest/validate.py), word for word."""
    name = f.name
    quoted = f"concat('\"', {_shown(v)}, '\"')"

    def reason(rule: str, shown: str) -> str:
        return f"concat({sql_literal(name + ' is ')}, {shown}, {sql_literal(', must be ' + rule)})"

    checks: list[tuple[str, str]] = []
    if f.required:
        checks.append((f"{v} is null", sql_literal(f"{name} is missing; every record needs it")))
    if f.kind == "string":
        checks.append(
            (f"trim({v}) = ''", sql_literal(f"{name} is empty, must be a non-empty string"))
        )
    elif f.kind == "integer":
        rule = "an integer" + (f" >= {int(f.minimum)}" if f.minimum is not None else "")
        if f.minimum is not None:
            checks.append((f"{v} < {int(f.minimum)}", reason(rule, _shown(v))))
        if f.maximum is not None and f.maximum < 2**63 - 1:
            checks.append(
                (
                    f"{v} > {int(f.maximum)}",
                    reason(f"{rule}, and at most {int(f.maximum)}", _shown(v)),
                )
            )
    elif f.kind in ("number", "confidence"):
        bound = ""
        if f.minimum is not None and f.maximum is not None:
            bound = f" in [{f.minimum:g}, {f.maximum:g}]"
        elif f.minimum is not None:
            bound = f" >= {f.minimum:g}"
        rule = "a number" + bound
        if f.labels:
            rule += " or one of " + ", ".join(label for label, _ in f.labels)
        checks.append(
            (f"isnan({v}) or abs({v}) = cast('Infinity' as double)", reason(rule, _shown(v)))
        )
        if f.minimum is not None:
            checks.append((f"{v} < {f.minimum}", reason(rule, _shown(v))))
        if f.maximum is not None:
            checks.append((f"{v} > {f.maximum}", reason(rule, _shown(v))))
    elif f.kind == "enum":
        allowed = ", ".join(sql_literal(e) for e in f.enum)
        checks.append(
            (f"lower(trim({v})) not in ({allowed})", reason("one of " + ", ".join(f.enum), quoted))
        )
    elif f.kind == "tier":
        checks.append(
            (
                f"{ladder_hit} is null",
                f"concat({reason('a tier on the ladder ', quoted)}, $ladder_text, "
                f"{sql_literal(' (tier names come from tierwatch.toml)')})",
            )
        )
    elif f.kind == "timestamp":
        between = "a time between 1970 and 2100 (epoch seconds, not milliseconds)"
        checks.append(
            (
                f"{v} < timestamp '1970-01-01 00:00:00' or {v} >= timestamp '2100-01-01 00:00:00'",
                reason(between, _shown(v)),
            )
        )
    # boolean: a typed boolean column has nothing left to check
    # a field present but null that is required was caught above; others may be null
    return [
        (c if c.startswith(f"{v} is null") else f"{v} is not null and ({c})", r) for c, r in checks
    ]


def checked_sql(table: str, columns: set[str], fields: tuple[Field, ...]) -> str:
    """SQL over the view `table` (a lake table's rows, its partition columns included):
    every row with its values as the store holds them (enums and tiers lower case, defaults
    filled in, a missing column as NULL) and `problem_field`, `problem_reason` (NULL for a
    good row), by the format's rules. Parameter: $ladder_text (the ladder, 'a < b < c');
    reads the view `ladder(rank, name)`."""
    selected, problems, fields_first = [], [], []
    joins = []
    for f in fields:
        raw = f"r.{f.name}" if f.name in columns else "null"
        hit = None
        if f.kind == "tier":
            joins.append(f"left join ladder as l_{f.name} on l_{f.name}.name = lower(trim({raw}))")
            hit = f"l_{f.name}.name"
        checks = _field_checks(f, raw, hit)
        if checks:
            first = "case " + " ".join(f"when {c} then {r}" for c, r in checks) + " end"
            problems.append(first)
            fields_first.append(
                "case when "
                + " or ".join(f"({c})" for c, _ in checks)
                + f" then {sql_literal(f.name)} end"
            )
        value = raw
        if f.kind in ("enum", "tier"):
            value = f"lower(trim({raw}))"
        if f.default is not None:
            default = str(int(f.default)) if f.kind == "integer" else sql_literal(str(f.default))
            value = f"coalesce({value}, {default})"
        if raw == "null":
            value = f"cast({value} as {_CAST[f.kind]})"
        selected.append(f"{value} as {f.name}")
        if f.maximum_field:
            other = f"r.{f.maximum_field}" if f.maximum_field in columns else "null"
            said = sql_literal(f", must be at most {f.maximum_field} (")
            problems.append(
                f"case when {raw} > {other} then concat({sql_literal(f.name + ' is ')}, "
                f"cast({raw} as varchar), {said}, cast({other} as varchar), ')') end"
            )
            fields_first.append(f"case when {raw} > {other} then {sql_literal(f.name)} end")
    passed = [f"r.{c}" for c in sorted(columns) if c not in {f.name for f in fields}]
    passed += [f"cast(null as varchar) as {c}" for c in EXTRA_COLUMNS if c not in columns]
    return (
        "select " + ", ".join(selected + passed) + ",\n"
        f"    coalesce({', '.join(fields_first)}) as problem_field,\n"
        f"    nullif(concat_ws('; ', {', '.join(problems)}), '') as problem_reason\n"
        f"from {table} as r\n" + "\n".join(joins)
    )


_CAST = {
    "string": "varchar",
    "enum": "varchar",
    "tier": "varchar",
    "integer": "bigint",
    "number": "double",
    "confidence": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
}
