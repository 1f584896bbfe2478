-- not_objects: a staged record that is not one JSON object (not JSON, another JSON type,
-- or a field named twice) gets its parse error here, and so never reaches the field checks.
-- Grain: updates stage, one row per such record. Parameters: none.
update stage set parse_error = case
    when not json_valid(doc) then 'not valid JSON' || case
        when right(rtrim(raw), 1) <> '}' then ' (the line looks cut off)' else '' end
        || '; each line must be one complete JSON object'
    when json_type(doc) <> 'OBJECT' then
        'record is a JSON ' || lower(json_type(doc)) || ', must be a JSON object'
    else 'field "' || list_sort(list_filter(
            list_distinct(json_keys(doc)),
            lambda k: len(list_filter(json_keys(doc), lambda x: x = k)) > 1))[1]
        || '" appears more than once in the record; keep one (readers disagree on '
        || 'which value wins)'
    end
where parse_error is null and (
    not json_valid(doc) or json_type(doc) <> 'OBJECT'
    or len(json_keys(case when json_valid(doc) and json_type(doc) = 'OBJECT'
                          then doc end))
       <> len(list_distinct(json_keys(case when json_valid(doc) then doc end))))
