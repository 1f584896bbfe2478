"""Log format v1 as data, and the set-based SQL that checks staged records against it.

The schema (`log_format_v1.schema.json`) is the one description of the format: this module
reads it and writes, per field, a SQL expression that either yields the field's typed value
or a reason a person understands ("input_tokens is -5, must be an integer >= 0"). Every
record is checked in one pass of DuckDB over the staged batch; nothing goes row by row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tierwatch.ingest.config import NO_TIER_ADVICE

SCHEMA_FILE = "log_format_v1.schema.json"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string, integer, number, timestamp, tier, enum, boolean, confidence
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] = ()
    default: object = None
    maximum_field: str | None = None
    labels: tuple[tuple[str, float], ...] = ()


def _fields(schema: dict) -> tuple[Field, ...]:
    required = set(schema.get("required", []))
    out = []
    for name, spec in schema["properties"].items():
        out.append(
            Field(
                name=name,
                kind=spec["x-kind"],
                required=name in required,
                minimum=spec.get("minimum"),
                maximum=spec.get("maximum"),
                enum=tuple(spec.get("enum", ())),
                default=spec.get("default"),
                maximum_field=spec.get("x-maximum-field"),
                labels=tuple(spec.get("enum-labels", {}).items()),
            )
        )
    return tuple(out)


@cache
def schema() -> dict:
    """The JSON Schema of log format v1."""
    return json.loads(
        (resources.files("tierwatch.ingest") / SCHEMA_FILE).read_text(encoding="utf-8")
    )


@cache
def attempt_fields() -> tuple[Field, ...]:
    return _fields(schema())


@cache
def downstream_fields() -> tuple[Field, ...]:
    return _fields(schema()["$defs"]["downstream_failure"])


def known_names() -> tuple[str, ...]:
    """Every field name the format knows (other fields are kept in `extra`)."""
    names = [f.name for f in attempt_fields()]
    names += [f.name for f in downstream_fields() if f.name not in names]
    return tuple(names)


# ---------------------------------------------------------------------------------------
# SQL generation. Each record is staged as (line, raw, doc, typed): doc is a JSON object
# text; typed says whether its values carry JSON types (JSONL, Parquet) or are all text
# (CSV). Field values are pulled out once into the lists v (text) and t (JSON type).

_NUM = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
_INT = r"-?[0-9]+"
_TS = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?"
)
_NUMERIC_TYPES = "('BIGINT', 'UBIGINT', 'DOUBLE')"


def sql_literal(text: str) -> str:
    """A SQL string literal, for text tierwatch itself puts where no bound parameter can go
    (the schema file's words, a COPY target); never for data."""
    return "'" + text.replace("'", "''") + "'"


def _shown(v: str, t: str) -> str:
    """SQL for how a bad value is shown in a reason: strings quoted, at most 60 characters."""
    clipped = f"(case when length({v}) > 60 then left({v}, 57) || '...' else {v} end)"
    quoted = f"'\"' || {clipped} || '\"'"
    return f"(case when {t} is null or {t} = 'VARCHAR' then {quoted} else {clipped} end)"


def _bound(f: Field) -> str:
    if f.minimum is not None and f.maximum is not None:
        return f" in [{f.minimum:g}, {f.maximum:g}]"
    if f.minimum is not None:
        return f" >= {f.minimum:g}"
    return ""


def _checks(f: Field, v: str, t: str) -> tuple[list[tuple[str, str]], str]:
    """(conditions that make the value bad, each with its reason SQL) and the typed value.

    Typed values (JSON, Parquet) take a fast path on their JSON type; only untyped text
    (CSV cells, already stripped of surrounding spaces) goes through the regular expressions.
    """
    name = f.name
    shown = _shown(v, t)
    is_text = f"({t} is null or {t} = 'VARCHAR')"
    numeric = f"{t} in {_NUMERIC_TYPES}"
    checks: list[tuple[str, str]] = []

    def reason(rule: str) -> str:
        text = f"{sql_literal(name + ' is ')} || {shown} || {sql_literal(', must be ' + rule)}"
        if f.kind in ("integer", "number", "confidence", "boolean"):
            # a number sent as text in JSON or a Parquet string column: say so
            text += (
                f" || (case when {t} = 'VARCHAR' then ' (a string: write it without quotes, "
                f"or give the Parquet column a numeric type)' else '' end)"
            )
        return text

    if f.kind == "string":
        checks.append((f"not {is_text}", reason("a string")))
        checks.append(
            (f"trim({v}) = ''", sql_literal(f"{name} is empty, must be a non-empty string"))
        )
        return checks, v

    if f.kind == "integer":
        # the schema bounds every integer by the store column it lands in (BIGINT, INTEGER)
        rule = "an integer" + (f" >= {int(f.minimum)}" if f.minimum is not None else "")
        value = f"try_cast({v} as bigint)"
        checks.append(
            (
                f"case when {t} in ('BIGINT', 'UBIGINT') then false "
                f"when {t} is null or {t} = 'DOUBLE' then not regexp_full_match({v}, '{_INT}') "
                f"else true end",
                reason(rule),
            )
        )
        most = int(f.maximum) if f.maximum is not None else 2**63 - 1  # BIGINT's
        checks.append(
            (f"{value} is null or {value} > {most}", reason(f"{rule}, and at most {most}"))
        )
        if f.minimum is not None:
            checks.append((f"{value} < {int(f.minimum)}", reason(rule)))
        return checks, value

    if f.kind in ("number", "confidence"):
        labels = dict(f.labels)
        rule = "a number" + _bound(f)
        if labels:
            rule += " or one of " + ", ".join(labels)
        words = ", ".join(sql_literal(k) for k in labels)
        is_label = f"({is_text} and lower(trim({v})) in ({words}))" if labels else "false"
        number = f"try_cast({v} as double)"
        checks.append(
            (
                f"case when {is_label} then false "
                f"when {numeric} then not isfinite({number}) "
                f"when {t} is null then not regexp_full_match({v}, '{_NUM}') "
                f"or not isfinite({number}) else true end",
                reason(rule),
            )
        )
        value = number
        if labels:
            cases = " ".join(f"when {sql_literal(k)} then {val}" for k, val in labels.items())
            value = f"(case lower(trim({v})) {cases} else {number} end)"
        if f.minimum is not None:
            checks.append((f"{value} < {f.minimum}", reason(rule)))
        if f.maximum is not None:
            checks.append((f"{value} > {f.maximum}", reason(rule)))
        return checks, value

    if f.kind == "boolean":
        words = "('true', 'false', '1', '0', 'yes', 'no')"
        checks.append(
            (
                f"case when {t} = 'BOOLEAN' then false "
                f"when {t} is null then lower({v}) not in {words} else true end",
                reason("true or false"),
            )
        )
        return checks, f"(lower({v}) in ('true', '1', 'yes'))"

    if f.kind == "enum":
        allowed = ", ".join(sql_literal(e) for e in f.enum)
        checks.append(
            (
                f"case when {is_text} then lower(trim({v})) not in ({allowed}) else true end",
                reason("one of " + ", ".join(f.enum)),
            )
        )
        return checks, f"lower(trim({v}))"

    if f.kind == "tier":
        checks.append(
            (
                f"case when {is_text} then not list_contains($ladder, lower(trim({v}))) "
                f"else true end",
                f"{reason('a tier on the ladder ')} || array_to_string($ladder, ' < ') || "
                f"{sql_literal(' (tier names come from tierwatch.toml)')}",
            )
        )
        return checks, f"lower(trim({v}))"

    if f.kind == "timestamp":
        # epoch seconds must land in [1970, 2100): beyond is most often milliseconds.
        # Both are computed once per record, as columns of their own (see check_sql).
        epoch, parsed = f"{name}__epoch", f"{name}__parsed"
        in_range = f"({epoch} >= 0 and {epoch} < 4102444800)"
        between = "a time between 1970 and 2100 (epoch seconds, not milliseconds)"
        checks.append((f"{epoch} is not null and not {in_range}", reason(between)))
        checks.append(
            (
                f"{parsed} is null",
                reason("an RFC 3339 time like 2026-03-01T12:00:00Z or epoch seconds"),
            )
        )
        checks.append(
            (
                f"{parsed} < timestamp '1970-01-01' or {parsed} >= timestamp '2100-01-01'",
                reason(between),
            )
        )
        return checks, parsed

    raise ValueError(f"unknown x-kind {f.kind!r} for {name}")


def _timestamp_columns(name: str, v: str, t: str) -> str:
    """SQL for the helper columns <name>__epoch and <name>__parsed of a timestamp field."""
    numeric = f"{t} in {_NUMERIC_TYPES}"
    is_text = f"({t} is null or {t} = 'VARCHAR')"
    epoch = (
        f"case when {numeric} or ({t} is null and regexp_full_match({v}, '{_NUM}')) "
        f"then try_cast({v} as double) end"
    )
    return (
        f"{epoch} as {name}__epoch, "
        f"case when {epoch} >= 0 and {epoch} < 4102444800 "
        f"then try_cast(to_timestamp({epoch}) as timestamp) "
        f"when {is_text} and regexp_full_match({v}, '{_TS}') "
        f"then try_cast(try_cast(upper({v}) as timestamptz) as timestamp) end as {name}__parsed"
    )


def _problem_expr(
    fields: tuple[Field, ...],
    paths: list[str],
    when_missing: dict[str, list[tuple[str, str]]] | None = None,
) -> tuple[str, dict[str, str]]:
    """SQL for a record's problems, a list of struct(field, reason) with at most one per
    field (its first), or NULL for a good record; and the SQL of each field's typed value.

    `when_missing` replaces the plain "is missing" check of a field with other
    (condition, problem) pairs.
    """
    when_missing = when_missing or {}
    per_field: list[str] = []
    conditions: list[str] = []
    values: dict[str, str] = {}
    for f in fields:
        i = paths.index(f.name) + 1
        v, t = f"v[{i}]", f"t[{i}]"
        present = f"({v} is not null)"

        def problem(reason: str, name: str = f.name) -> str:
            return f"{{'field': {sql_literal(name)}, 'reason': {reason}}}"

        pairs: list[tuple[str, str]] = []
        if f.name in when_missing:
            pairs += when_missing[f.name]
        elif f.required:
            pairs.append(
                (
                    f"not {present}",
                    problem(sql_literal(f"{f.name} is missing; every record needs it")),
                )
            )
        checks, value = _checks(f, v, t)
        pairs += [(f"{present} and ({cond})", problem(reason)) for cond, reason in checks]
        if f.maximum_field:
            j = paths.index(f.maximum_field) + 1
            pairs.append(
                (
                    f"{present} and try_cast({v} as bigint) > try_cast(v[{j}] as bigint)",
                    problem(
                        f"{sql_literal(f.name + ' is ')} || {v} || "
                        f"{sql_literal(', must be at most ' + f.maximum_field + ' (')} || "
                        f"v[{j}] || ')'"
                    ),
                )
            )
        per_field.append("case " + " ".join(f"when {c} then {p}" for c, p in pairs) + " end")
        conditions += [c for c, _ in pairs]
        default = f"{sql_literal(str(f.default))}" if f.default is not None else "null"
        if f.kind == "integer" and f.default is not None:
            default = str(int(f.default))
        values[f.name] = f"(case when {present} then {value} else {default} end)"
    # the list of problems is built only for records that have one: most records are good
    any_bad = "case " + " ".join(f"when {c} then true" for c in conditions) + " else false end"
    problems = (
        f"case when {any_bad} then "
        f"list_filter([{', '.join(per_field)}], lambda p: p is not null) end"
    )
    return problems, values


@cache
def paths() -> tuple[str, ...]:
    """The JSON paths pulled out of every record, in order: known field names."""
    return known_names()


# How a typed column's value reads as the (v, t) pair that pulling its field out of the row's
# JSON text gives (DuckDB's to_json of the row, then json_extract_string and json_type): the
# typed Parquet path of ingest/load.py builds v and t from the columns themselves, and the
# checks that follow are the same statement, word for word. Doubles go through to_json
# because its text of a double is not cast's (1e+20 against 100000000000000000000.0).
_TYPED_PULL = {
    "string": ("{c}", "'VARCHAR'"),
    "integer": ("cast({c} as varchar)", "case when {c} < 0 then 'BIGINT' else 'UBIGINT' end"),
    "float": ("cast(to_json({c}) as varchar)", "'DOUBLE'"),
    "boolean": ("cast({c} as varchar)", "'BOOLEAN'"),
    "text": ("cast({c} as varchar)", "'VARCHAR'"),  # timestamps and dates: JSON strings
    "null": ("cast(null as varchar)", "'NULL'"),
}


def typed_pull_sql(families: dict[str, str], table: str, text: bool = False) -> str:
    """SQL over `table` (a typed block's columns, named as the format's fields, and its line
    in `__tierwatch_line`) giving the stage of check_sql(prepulled=True): line, keys, and
    each known field's text `v` and JSON type `t` as the row's JSON text would give them.
    `families`: column name -> a key of _TYPED_PULL. `text`: a CSV block, its values text
    with no JSON type (an empty value is absent) and each row's text in `__tierwatch_raw`."""
    values, types = [], []
    for name in paths():
        family = families.get(name)
        column = '"' + name.replace('"', '""') + '"'
        if family is None:  # an absent field: no value, no JSON type
            values.append("cast(null as varchar)")
            types.append("cast(null as varchar)")
        elif text:
            values.append(f"nullif({column}, '')")
        else:
            value, kind = _TYPED_PULL[family]
            values.append(value.format(c=column))
            types.append(f"case when {column} is null then 'NULL' else {kind.format(c=column)} end")
    if text:
        present = ", ".join(
            f"case when {c} <> '' then {sql_literal(n)} end"
            for n, c in ((n, '"' + n.replace('"', '""') + '"') for n in families)
        )
        keys = f"list_filter([{present}], lambda k: k is not null)"
        raw, typed, t = "__tierwatch_raw", "false", "cast(null as varchar[])"
    else:
        keys = f"cast([{', '.join(sql_literal(n) for n in families)}] as varchar[])"
        raw, typed, t = "cast(null as varchar)", "true", f"[{', '.join(types)}]"
    return (
        f"select __tierwatch_line as line, {raw} as raw, cast(null as varchar) as doc, "
        f"{typed} as typed, cast(null as varchar) as parse_error, "
        f"cast(null as varchar) as locator, {keys} as keys, "
        f"[{', '.join(values)}] as v, {t} as t from {table}"
    )


@cache
def check_sql(prepulled: bool = False) -> str:
    """SQL over temp table `stage(line, raw, doc, typed, parse_error, keys)` (keys: the
    record's, from ingest/chunk/not_objects.sql) and
    `model_tier(model, tier, advice)` (advice: what to do when the model maps to no tier).
    `prepulled`: the stage already holds each field's text and JSON type (`v`, `t`, from
    typed_pull_sql) instead of pulling them out of `doc`.

    Parameter: $ladder (tier names, cheapest first). Yields one row per record with
    `kind` (attempt / downstream_failure), `problem` (struct field, reason; null when the
    record is good) and the typed values.
    """
    names = list(paths())
    json_paths = "[" + ", ".join(sql_literal("$." + json.dumps(n)) for n in names) + "]"
    rec = names.index("record") + 1
    helpers = ", ".join(
        _timestamp_columns(f.name, f"v[{names.index(f.name) + 1}]", f"t[{names.index(f.name) + 1}]")
        for f in attempt_fields()
        if f.kind == "timestamp"
    )
    tier_i = names.index("tier") + 1
    model_i = names.index("model") + 1
    # tier may be left out when the model maps to a tier through the config's globs
    tier, model = f"v[{tier_i}]", f"v[{model_i}]"
    missing_tier = [
        (
            f"{tier} is null and {model} is null",
            "{'field': 'tier', 'reason': 'tier is missing, and there is no model to map to a "
            "tier; give tier'}",
        ),
        (
            f"{tier} is null and model_tier.tier is null",
            "{'field': 'tier', 'reason': 'tier is missing and model \"' || "
            f"{model} || '\" matches no tier''s models; ' || "
            f"coalesce(model_tier.advice, {sql_literal(NO_TIER_ADVICE)})}}",
        ),
    ]
    attempt_problem, a = _problem_expr(attempt_fields(), names, {"tier": missing_tier})
    df_problem, d = _problem_expr(downstream_fields(), names)
    conf_i = names.index("confidence") + 1

    def present(fields: tuple[Field, ...]) -> str:
        # a present field has a value in v, or a JSON type in t (a JSON null is present)
        return ", ".join(
            f"coalesce(c.t[{names.index(f.name) + 1}], c.v[{names.index(f.name) + 1}])"
            for f in fields
        )

    conf = next(f for f in attempt_fields() if f.name == "confidence")
    labels = "(" + ", ".join(sql_literal(label) for label, _ in conf.labels) + ")"
    pulled = (
        "select line, raw, doc, keys, v, t from stage where parse_error is null"
        if prepulled
        else f"""select
        line, raw, doc, keys,
        json_extract_string(doc, {json_paths}) as v,
        -- untyped (CSV) values have no JSON type; JSON null reads as absent (v is null)
        case when typed then json_type(doc, {json_paths}) end as t
    from stage
    where parse_error is null"""
    )
    return f"""
with pulled as (
    {pulled}
),
kinded as (
    select *, lower(trim(coalesce(v[{rec}], 'attempt'))) as kind, {helpers} from pulled
),
checked as (
    select
        c.line, c.raw, c.kind,
        case
            when c.kind = 'attempt' then coalesce({attempt_problem}, [])
            when c.kind = 'downstream_failure' then coalesce({df_problem}, [])
            else [{{'field': 'record', 'reason': 'record is "' || c.v[{rec}] ||
                  '", must be attempt or downstream_failure'}}]
        end as problems,
        {", ".join(f"{expr} as {name}" for name, expr in a.items() if name != "tier")},
        coalesce({a["tier"]}, model_tier.tier) as tier,
        {d["detected_by"]} as detected_by,
        case when lower(trim(c.v[{conf_i}])) in {labels} then lower(trim(c.v[{conf_i}])) end
            as confidence_label,
        -- whether the record has fields the format does not know for its kind (most have
        -- none); EXTRAS_SQL fills them in, in a statement of its own
        case when c.kind = 'downstream_failure' then
            len(c.keys) > list_count([{present(downstream_fields())}])
        else len(c.keys) > list_count([{present(attempt_fields())}])
        end as has_extra
    from kinded as c
    left join model_tier on model_tier.model = c.v[{model_i}]
)
select * exclude (problems),
    case when len(problems) > 0 then {{
        'field': problems[1].field,
        'reason': array_to_string(list_transform(problems, lambda p: p.reason), '; ')
    }} end as problem
from checked
union all by name
select line, raw, 'unreadable' as kind,
       {{'field': null, 'reason': parse_error}} as problem
from stage where parse_error is not null
"""


# The fields a record has that the format does not know for its kind, kept as given: temp
# table extras(line, extra) for the good records of `checked` that have some. Parameters
# $attempt_patch and $downstream_patch (see known_patch). Apart from CHECK_SQL because
# DuckDB's merge patch inside that one statement held memory for every record of a block:
# 3,000 records with 10 KB of unknown fields each ran out of a 1 GB limit.
EXTRAS_SQL = """
create or replace temp table extras as
select c.line, nullif(cast(json_merge_patch(s.doc,
        case when c.kind = 'downstream_failure' then $downstream_patch else $attempt_patch end)
        as varchar), '{}') as extra
from checked as c join stage as s using (line)
where c.has_extra and c.problem is null
"""


def known_patch(kind: str = "attempt") -> str:
    """A JSON merge patch that removes every field records of `kind` know: applied to a
    record, its extras. A downstream failure's extras include attempt fields it carries."""
    fields = attempt_fields() if kind == "attempt" else downstream_fields()
    return json.dumps({f.name: None for f in fields})
