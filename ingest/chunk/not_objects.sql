-- not_objects: a staged record that is not one JSON object (not JSON, another JSON type,
-- or a field named twice) gets its parse error here, and so never reaches the field checks.
-- Each object's keys are kept beside it (keys), parsed once for this check and for the
-- unknown-field count of the checks.
-- Grain: replaces stage, one row per staged record. Parameters: none.
create or replace temp table stage as
with valid as (
    select *, parse_error is null and json_valid(doc) as is_json from stage
),

typed as (
    select *, case when is_json then json_type(doc) end as doc_type from valid
),

keyed as (
    select *, case when doc_type = 'OBJECT' then json_keys(doc) end as keys from typed
)

select line, raw, doc, typed,
    case
        when parse_error is not null then parse_error
        when not is_json then 'not valid JSON' || case
            when right(rtrim(raw), 1) <> '}' then ' (the line looks cut off)' else '' end
            || '; each line must be one complete JSON object'
        when doc_type <> 'OBJECT' then
            'record is a JSON ' || lower(doc_type) || ', must be a JSON object'
        when len(keys) <> list_unique(keys) then 'field "' || list_sort(list_filter(
                list_distinct(keys), lambda k: len(list_filter(keys, lambda x: x = k)) > 1))[1]
            || '" appears more than once in the record; keep one (readers disagree on '
            || 'which value wins)'
    end as parse_error,
    locator, keys
from keyed
