{#- Validation of one raw table, in one place. The rules are data: var('raw_rules')[table]
    in dbt_project.yml (the same spec the Great Expectations raw suites read), and these
    macros turn them into SQL for the validated base model of that table:

      key             source key columns            -> missing_key, exact_duplicate,
                                                       duplicate_key
      near_duplicate  columns that make two ids one -> near_duplicate (lowest id kept)
      required        columns that must hold a value -> missing_value
      types           {column: date|number|bool}     -> unparseable_value
      ranges, order   numeric bounds, column order   -> out_of_range
      vocab           {column: vocabulary var}       -> invalid_value
      not_future      dates after as_of_date         -> future_date
      plausible       named cross-table date rules   -> interview_after_hire,
                                                       review_before_hire
      orphans         parent key absent from raw     -> orphan; parent row quarantined ->
                                                       parent_quarantined
      personal        columns whose values are never copied (reject_value '<redacted>')
      void            columns whose types / ranges / vocab rules void the field instead:
                      `_void_<col>` holds the reason, the field is NULL in staging, the row
                      is staged (quarantine.field_defects lists the defects)

    Import profiles (hris.import_rules): a vocab or bool column reads `<col>__value`, the
    contract value raw._value_map gives its lower(trim(text)), else lower(trim(text)); a
    date column with a raw._date_formats row parses strictly with that format.

    One reason per row: the first failing rule in var('reject_reasons') order, and within
    a reason the order of the spec (ranges before order). -#}

{% macro hris_rules(table) -%}
    {%- set all_rules = var('raw_rules') -%}
    {%- if table not in all_rules -%}
        {{ exceptions.raise_compiler_error("var raw_rules has no table '" ~ table ~ "'") }}
    {%- endif -%}
    {{ return(all_rules[table]) }}
{%- endmacro %}

{#- The contract columns of a raw table, read from the table itself (hris.raw_store creates
    it from hris/contract.py): no second column list to drift. Empty while parsing. -#}
{% macro hris_raw_columns(table) -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for c in adapter.get_columns_in_relation(source('hris', table)) -%}
            {%- if not c.name.startswith('_') -%}{%- do columns.append(c.name) -%}{%- endif -%}
        {%- endfor -%}
        {%- if not columns -%}
            {{ exceptions.raise_compiler_error("raw." ~ table ~ " is missing or has no columns: load raw first (hris.raw_store.ensure_raw_schema)") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The import profile in force for `table`: {'mapped': vocab / bool columns with a value
    mapping, 'dated': date columns with a format}. Read when the model compiles (every dbt
    build), so a recorded profile acts on the next build; nothing while parsing. -#}
{% macro hris_profile_columns(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- set value_map = source('hris_profile', '_value_map') -%}
    {%- set date_formats = source('hris_profile', '_date_formats') -%}
    {%- set out = {'mapped': [], 'dated': []} -%}
    {%- if execute and load_relation(value_map) is not none
          and load_relation(date_formats) is not none -%}
        {%- set found = run_query(
            "select 'value', column_name from " ~ value_map ~ " where table_name = '"
            ~ table ~ "' group by column_name union all select 'date', column_name from "
            ~ date_formats ~ " where table_name = '" ~ table ~ "'") -%}
        {%- set types = rules.get('types', {}) -%}
        {%- for kind, column in found.rows -%}
            {%- if kind == 'value' and column in hris_value_columns(table) -%}
                {%- do out.mapped.append(column) -%}
            {%- elif kind == 'date' and types.get(column) == 'date' -%}
                {%- do out.dated.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(out) }}
{%- endmacro %}

{#- The columns that read a (mapped) value: vocab and bool columns, in spec order. -#}
{% macro hris_value_columns(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- set out = [] -%}
    {%- for c in rules.get('vocab', {}) -%}{%- do out.append(c) -%}{%- endfor -%}
    {%- for c, kind in rules.get('types', {}).items() if kind == 'bool' and c not in out -%}
        {%- do out.append(c) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- CTEs `dup_keys`, `first_hashes`, `cleaned` (trimmed text `<col>__text`, blank -> NULL,
    `<col>__value` for vocab and bool columns (mapped by the import profile, lower-cased),
    the load metadata, and `_first_hash`: the record hash of the first occurrence of the
    row's key, only looked up for repeats so the join stays small) and, with a
    near_duplicate rule, `near_groups`: the groups of rows that pass the key rules and
    share the near_duplicate values under more than one id, with the lowest id (text
    order, collation "C") to keep. -#}
{% macro hris_cleaned_ctes(table) -%}
{%- set rules = hris_rules(table) -%}
{%- set key = rules.key -%}
dup_keys as (
    select distinct {{ key | join(', ') }}
    from {{ source('hris', table) }}
    where _dup_seq > 1
),

first_hashes as (
    select {% for k in key %}s.{{ k }}, {% endfor %}s._record_hash as _first_hash
    from {{ source('hris', table) }} as s
    inner join dup_keys as d
        on {% for k in key %}s.{{ k }} = d.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
    where s._dup_seq = 1
),

{%- set profile = hris_profile_columns(table) %}
{%- set value_map = source('hris_profile', '_value_map') %}
cleaned as (
    select
        {%- for c in hris_raw_columns(table) %}
        {{ clean_text('s.' ~ c) }} as {{ c }}__text,
        {%- endfor %}
        {%- for c in hris_value_columns(table) %}
        {%- if c in profile.mapped %}
        coalesce(_map_{{ c }}.contract_value, lower({{ clean_text('s.' ~ c) }})) as {{ c }}__value,
        {%- else %}
        lower({{ clean_text('s.' ~ c) }}) as {{ c }}__value,
        {%- endif %}
        {%- endfor %}
        {%- if rules.get('personal') %}
        s._birth_date_check,
        s._age_band,
        s._age_40_plus::boolean as _age_40_plus,
        {%- endif %}
        s._dup_seq,
        s._record_hash,
        s._source,
        s._loaded_at,
        f._first_hash
    from {{ source('hris', table) }} as s
    left join first_hashes as f
        on s._dup_seq > 1
        {%- for k in key %}
        and f.{{ k }} = s.{{ k }}
        {%- endfor %}
    {%- for c in hris_value_columns(table) if c in profile.mapped %}
    left join (
        select source_value, contract_value from {{ value_map }}
        where table_name = '{{ table }}' and column_name = '{{ c }}'
    ) as _map_{{ c }}
        on _map_{{ c }}.source_value = lower({{ clean_text('s.' ~ c) }})
    {%- endfor %}
)
{%- if rules.get('near_duplicate') %}
{%- if key | length != 1 -%}
    {{ exceptions.raise_compiler_error("near_duplicate needs a one-column key (" ~ table ~ ")") }}
{%- endif %},

near_groups as (
    select
        {%- for c in rules.near_duplicate %}
        {{ c }}__text,
        {%- endfor %}
        min({{ key[0] }}__text collate "C") as _near_keep
    from cleaned
    where _dup_seq = 1 and {{ key[0] }}__text is not null
        {%- for c in rules.near_duplicate %}
        and {{ c }}__text is not null
        {%- endfor %}
    group by {% for c in rules.near_duplicate %}{{ c }}__text{{ ', ' if not loop.last }}{% endfor %}
    having count(*) > 1
)
{%- endif %}
{%- endmacro %}

{#- The typed columns of the `types` rule, each followed by a comma:
    `safe_date(<col>__text) as <col>,` ... (a date with a profile format: the strict parse
    with it; a bool: its `__value`). A personal date is ciphertext in raw: the check made
    at load (`_<col>_check`, hris.raw_protect) stands for it, NULL when it does not parse,
    +infinity when it is not before its reference date, else -infinity, so the types and
    order rules judge it as before (monitoring.data_quality.sql.personal_date). -#}
{% macro hris_typed_columns(table) -%}
    {%- set profile = hris_profile_columns(table) -%}
    {%- set date_formats = source('hris_profile', '_date_formats') -%}
    {%- set personal = hris_rules(table).get('personal', []) -%}
    {%- for c, kind in hris_rules(table).get('types', {}).items() %}
        {%- if kind == 'date' and c in personal %}
        case when {{ c }}__text is null then null
             when _{{ c }}_check = 'unparseable_value' then null
             when _{{ c }}_check = 'out_of_range' then 'infinity'::date
             else '-infinity'::date end as {{ c }},
        {%- elif kind == 'date' and c in profile.dated %}
        {{ date_formats.schema }}._to_date_strict({{ c }}__text, (select format from {{ date_formats }} where table_name = '{{ table }}' and column_name = '{{ c }}')) as {{ c }},
        {%- elif kind == 'date' %}
        {{ safe_date(c ~ '__text') }} as {{ c }},
        {%- elif kind == 'number' %}
        {{ safe_number(c ~ '__text') }} as {{ c }},
        {%- elif kind == 'bool' %}
        {{ safe_bool(c ~ '__value') }} as {{ c }},
        {%- else -%}
            {{ exceptions.raise_compiler_error("raw_rules." ~ table ~ ".types." ~ c ~ ": unknown type '" ~ kind ~ "'") }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The hire date a `plausible` rule compares with, from the parent lookup of `parent`:
    (join to add inside the parent lookup, expression). Raw facts of the parent's first
    occurrence, whatever its own validity. A candidate who applied after their employee's
    hire date (an internal move, a re-application while employed) has none: that
    application is interviewed after the hire date by nature. -#}
{% macro hris_parent_hire_date(parent) -%}
    {%- if parent == 'employees' -%}
        {{ return(('', 'p.hire_date')) }}
    {%- elif parent == 'candidates' -%}
        {{ return(('left join ' ~ ref('base_hris__employees') ~ ' as e on e.employee_id = '
                   ~ 'p.employee_id and e._dup_seq = 1',
                   'case when p.application_date > e.hire_date then null else e.hire_date end'
                   )) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("no hire date through parent '" ~ parent ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The named plausible rules: reason -> (parent table, column, "is bad" condition).
    `_hire_date` is the parent lookup's hire date. -#}
{% macro hris_plausible_rules() -%}
    {{ return({
        'interview_after_hire': ('candidates', 'interview_date',
                                 'interview_date > _hire_date'),
        'review_before_hire': ('employees', 'period_start', 'period_start < _hire_date'),
    }) }}
{%- endmacro %}

{#- The parent lookups of the orphan rules: [(column, cte name, parent, parent column,
    with hire date)]. -#}
{% macro hris_parents(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- set needs_hire = [] -%}
    {%- for name in rules.get('plausible', []) -%}
        {%- set known = hris_plausible_rules() -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error("raw_rules." ~ table ~ ".plausible: unknown rule '" ~ name ~ "'") }}
        {%- endif -%}
        {%- do needs_hire.append(known[name][0]) -%}
    {%- endfor -%}
    {%- set parents = [] -%}
    {%- for o in rules.get('orphans', []) -%}
        {%- do parents.append((o.column, '_parent_' ~ loop.index, o.parent, o.parent_column,
                               o.parent in needs_hire)) -%}
    {%- endfor -%}
    {%- for p in needs_hire -%}
        {%- if p not in parents | map(attribute=2) | list -%}
            {{ exceptions.raise_compiler_error("raw_rules." ~ table ~ ": a plausible rule needs an orphans rule on " ~ p) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parents) }}
{%- endmacro %}

{#- Per void column, [(reason, "is bad" condition)] in reject_reasons order: the rules
    that void the field instead of quarantining the row. -#}
{% macro hris_void_list(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- set out = [] -%}
    {%- for c in rules.get('void', []) -%}
        {%- set checks = [] -%}
        {%- if c in rules.get('types', {}) -%}
            {%- do checks.append(('unparseable_value', c ~ '__text is not null and ' ~ c ~ ' is null')) -%}
        {%- endif -%}
        {%- for r in rules.get('ranges', []) if r.column == c -%}
            {%- set bad = [] -%}
            {%- if r.min is defined -%}{%- do bad.append(c ~ ' < ' ~ r.min) -%}{%- endif -%}
            {%- if r.max is defined -%}{%- do bad.append(c ~ ' > ' ~ r.max) -%}{%- endif -%}
            {%- do checks.append(('out_of_range', bad | join(' or '))) -%}
        {%- endfor -%}
        {%- if c in rules.get('vocab', {}) -%}
            {%- do checks.append(('invalid_value', c ~ ' is not null and ' ~ c ~ ' not in '
                                  ~ vocab(rules.vocab[c]))) -%}
        {%- endif -%}
        {%- if not checks -%}
            {{ exceptions.raise_compiler_error("raw_rules." ~ table ~ ".void: " ~ c ~ " has no types, ranges or vocab rule") }}
        {%- endif -%}
        {%- do out.append((c, checks)) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- [(reason, column, "is bad" condition, offending value)] in reject_reasons order: the
    rules that quarantine the row (a void column's value rules void it instead). -#}
{% macro hris_rule_list(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- set void = rules.get('void', []) -%}
    {%- set known = var('reject_reasons') -%}
    {%- for r in ['missing_key', 'exact_duplicate', 'duplicate_key', 'near_duplicate',
                  'missing_value', 'unparseable_value', 'out_of_range', 'invalid_value',
                  'future_date', 'orphan', 'parent_quarantined'] + rules.get('plausible', [])
          if r not in known -%}
        {{ exceptions.raise_compiler_error("reason '" ~ r ~ "' is not in var reject_reasons") }}
    {%- endfor -%}
    {%- set by = {} -%}
    {%- for r in known -%}{%- do by.update({r: []}) -%}{%- endfor -%}
    {%- set key_missing = [] -%}
    {%- for k in rules.key -%}{%- do key_missing.append(k ~ '__text is null') -%}{%- endfor -%}
    {%- do by.missing_key.append((none, key_missing | join(' or '), 'null')) -%}
    {%- do by.exact_duplicate.append((none,
        '_dup_seq > 1 and _record_hash is not distinct from _first_hash', 'null')) -%}
    {%- do by.duplicate_key.append((none, '_dup_seq > 1', 'null')) -%}
    {%- if rules.get('near_duplicate') -%}
        {%- set k = rules.key[0] -%}
        {%- do by.near_duplicate.append((k, '_near_keep is not null and ' ~ k
            ~ '__text collate "C" <> _near_keep', k)) -%}
    {%- endif -%}
    {%- for c in rules.get('required', []) -%}
        {%- do by.missing_value.append((c, c ~ '__text is null', 'null')) -%}
    {%- endfor -%}
    {%- for c in rules.get('types', {}) if c not in void -%}
        {%- do by.unparseable_value.append((c,
            c ~ '__text is not null and ' ~ c ~ ' is null', c ~ '__text')) -%}
    {%- endfor -%}
    {%- for r in rules.get('ranges', []) if r.column not in void -%}
        {%- set bad = [] -%}
        {%- if r.min is defined -%}{%- do bad.append(r.column ~ ' < ' ~ r.min) -%}{%- endif -%}
        {%- if r.max is defined -%}{%- do bad.append(r.column ~ ' > ' ~ r.max) -%}{%- endif -%}
        {%- do by.out_of_range.append((r.column, bad | join(' or '), r.column ~ '__text')) -%}
    {%- endfor -%}
    {%- for r in rules.get('order', []) -%}
        {%- if r.before is defined -%}
            {%- set bad = r.column ~ ' >= ' ~ r.before -%}
        {%- else -%}
            {%- set bad = r.column ~ ' < ' ~ r.not_before -%}
        {%- endif -%}
        {%- do by.out_of_range.append((r.column, bad, r.column ~ '__text')) -%}
    {%- endfor -%}
    {%- for c, v in rules.get('vocab', {}).items() if c not in void -%}
        {%- do by.invalid_value.append((c,
            c ~ ' is not null and ' ~ c ~ ' not in ' ~ vocab(v), c ~ '__text')) -%}
    {%- endfor -%}
    {%- for c in rules.get('not_future', []) -%}
        {%- do by.future_date.append((c, c ~ ' > ' ~ as_of_date(), c ~ '__text')) -%}
    {%- endfor -%}
    {%- for name in rules.get('plausible', []) -%}
        {%- set parent, c, bad = hris_plausible_rules()[name] -%}
        {%- do by[name].append((c, bad, c ~ '__text')) -%}
    {%- endfor -%}
    {%- for c, cte, parent, parent_col, hire in hris_parents(table) -%}
        {%- do by.orphan.append((c, c ~ ' is not null and ' ~ cte ~ '_found is null', c)) -%}
        {%- do by.parent_quarantined.append((c, 'not ' ~ cte ~ '_staged', c)) -%}
    {%- endfor -%}
    {%- set flat = [] -%}
    {%- for reason in known -%}
        {%- for col, cond, val in by[reason] -%}
            {%- do flat.append((reason, col, cond, val)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(flat) }}
{%- endmacro %}

{#- With index_only: `_reject_rule`, the number of the first failing rule (evaluated once
    per row); otherwise the three reject columns it maps to: _reject_reason,
    _reject_column, _reject_value. -#}
{% macro hris_reject_columns(table, index_only=false) -%}
    {%- set rules = hris_rule_list(table) -%}
    {%- if index_only %}
        case
        {%- for reason, col, cond, val in rules %}
            when {{ cond }} then {{ loop.index }}
        {%- endfor %}
        end as _reject_rule
    {%- else %}
        case _reject_rule
        {%- for reason, col, cond, val in rules %}
            when {{ loop.index }} then '{{ reason }}'
        {%- endfor %}
        end as _reject_reason,
        case _reject_rule
        {%- for reason, col, cond, val in rules %}
            when {{ loop.index }} then {{ "'" ~ col ~ "'" if col else 'null' }}
        {%- endfor %}
        end as _reject_column,
        case _reject_rule
        {%- for reason, col, cond, val in rules %}
            when {{ loop.index }} then {{ hris_reject_value(table, col, val) }}::text
        {%- endfor %}
        end as _reject_value
    {%- endif %}
{%- endmacro %}

{#- The offending value as quarantine keeps it: a personal column's, '<redacted>'; a
    vocabulary column's, as exported unless it is or looks personal (macro
    vocabulary_value); any other export text, masked to its shape ('31/02/2024' ->
    '99/99/9999', an id or a phone typed into a number field shows only its shape); a key
    (orphan, near_duplicate, parent_quarantined), the pseudonym staging gives it. -#}
{% macro hris_reject_value(table, col, val) -%}
    {%- set rules = hris_rules(table) -%}
    {%- if val == 'null' -%}
        null
    {%- elif col in rules.get('personal', []) -%}
        '<redacted>'
    {%- elif not val.endswith('__text') -%}
        {{ val }}
    {%- elif col in rules.get('vocab', {}) -%}
        {{ vocabulary_value(val) }}
    {%- else -%}
        {{ mask_value(val) }}
    {%- endif -%}
{%- endmacro %}

{#- CTEs `_parent_<n>` (one per orphans rule: the parent's key at its first occurrence in
    raw, whether that row is staged, and the hire date a plausible rule needs), `joined`
    (typed rows + parent lookups + the near-duplicate keep id), `checked` (+ the number of
    the first failing rule) and `validated` (+ the reject columns). Expects a CTE `typed`
    with the `<col>__text` and the typed columns. A parent key occurs once at _dup_seq 1,
    so the left joins keep one row per raw row. -#}
{% macro hris_validated_ctes(table) -%}
{%- set rules = hris_rules(table) -%}
{%- set parents = hris_parents(table) -%}
{%- for c, cte, parent, parent_col, hire in parents %}
{{ cte }} as (
    select
        p.{{ parent_col }} as _key,
        p._reject_reason is null as _staged
        {%- if hire %},
        {{ hris_parent_hire_date(parent)[1] }} as _hire_date
        {%- endif %}
    from {{ ref('base_hris__' ~ parent) }} as p
    {%- if hire %}
    {{ hris_parent_hire_date(parent)[0] }}
    {%- endif %}
    where p._dup_seq = 1 and p.{{ parent_col }} is not null
),
{% endfor %}
joined as (
    select
        t.*
        {%- for c, cte, parent, parent_col, hire in parents %},
        {{ cte }}._key as {{ cte }}_found,
        {{ cte }}._staged as {{ cte }}_staged
        {%- if hire %},
        {{ cte }}._hire_date
        {%- endif %}
        {%- endfor %}
        {%- if rules.get('near_duplicate') %},
        n._near_keep
        {%- endif %}
    -- offset 0 keeps `typed` a subquery: each typed value (an HMAC, a safe cast) is
    -- computed once per row, not once per reference in the rules.
    from (select * from typed offset 0) as t
    {%- for c, cte, parent, parent_col, hire in parents %}
    left join {{ cte }} on {{ cte }}._key = t.{{ c }}
    {%- endfor %}
    {%- if rules.get('near_duplicate') %}
    left join near_groups as n
        on {% for c in rules.near_duplicate %}n.{{ c }}__text = t.{{ c }}__text{{ ' and ' if not loop.last }}{% endfor %}
    {%- endif %}
),

checked as (
    select
        *,
        {%- for c, checks in hris_void_list(table) %}
        case
            {%- for reason, cond in checks %}
            when {{ cond }} then '{{ reason }}'
            {%- endfor %}
        end as _void_{{ c }},
        {%- endfor %}
        {{ hris_reject_columns(table, index_only=true) }}
    from joined
    offset 0
),

validated as (
    select
        *,
        {{ hris_reject_columns(table) }}
    from checked
)
{%- endmacro %}

{#- A column of the base model's output: NULL where its value was voided; a vocabulary
    column's value outside its vocabulary (a quarantined row's) as quarantine may show it
    (macro vocabulary_value: '<redacted>' when it is or looks personal). -#}
{% macro hris_field(table, column) -%}
    {%- set rules = hris_rules(table) -%}
    {%- if column in rules.get('void', []) -%}
        case when _void_{{ column }} is null then {{ column }} end as {{ column }}
    {%- elif column in rules.get('vocab', {}) -%}
        case when {{ column }} is null or {{ column }} in {{ vocab(rules.vocab[column]) }}
             then {{ column }} else {{ vocabulary_value(column) }} end as {{ column }}
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- The field-defect columns of the base model's output, each followed by a comma:
    `_void_<col>` (the reason, NULL when the value is good) and, for vocabulary columns that
    are not personal, `_void_<col>_value` (the raw text, to map it in a profile, unless it
    is or looks personal: macro vocabulary_value). -#}
{% macro hris_void_columns(table) -%}
    {%- set rules = hris_rules(table) -%}
    {%- for c in rules.get('void', []) %}
    _void_{{ c }},
    {%- if c in rules.get('vocab', {}) and c not in rules.get('personal', []) %}
    case when _void_{{ c }} is not null then {{ vocabulary_value(c ~ '__text') }} end
        as _void_{{ c }}_value,
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
