{#- Validation of one raw table, in one place. Each validated base model declares a
    `spec` and these macros turn it into SQL:

      spec.table     raw table name (source 'hris')
      spec.columns   contract columns (all text in raw)
      spec.key       source key columns
      spec.required  columns that must hold a value           -> missing_value
      spec.parsed    typed columns that must parse if present -> unparseable_value
      spec.ranges    [(column, SQL "is bad" condition)]       -> out_of_range
      spec.vocab     {column: vocabulary var}                 -> invalid_value
      spec.orphans   [(column, parent model, parent column)]  -> orphan (parent row staged)
      spec.personal  columns whose values are never copied    -> '<redacted>'

    One reason per row: the first failing rule in this order
      missing_key, exact_duplicate, duplicate_key, missing_value, unparseable_value,
      out_of_range, invalid_value, orphan
    (and within a rule, the order of the spec's columns). -#}

{#- CTEs `dup_keys`, `first_hashes` and `cleaned`: trimmed text (`<col>__text`,
    blank -> NULL), the load metadata, and `_first_hash`, the record hash of the first occurrence of the row's key
    (only looked up for repeats, so the join stays small). -#}
{% macro hris_cleaned_ctes(spec) -%}
dup_keys as (
    select distinct {{ spec.key | join(', ') }}
    from {{ source('hris', spec.table) }}
    where _dup_seq > 1
),

first_hashes as (
    select {% for k in spec.key %}s.{{ k }}, {% endfor %}s._record_hash as _first_hash
    from {{ source('hris', spec.table) }} as s
    inner join dup_keys as d
        on {% for k in spec.key %}s.{{ k }} = d.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
    where s._dup_seq = 1
),

cleaned as (
    select
        {%- for c in spec.columns %}
        {{ clean_text('s.' ~ c) }} as {{ c }}__text,
        {%- endfor %}
        s._dup_seq,
        s._record_hash,
        s._source,
        s._loaded_at,
        f._first_hash
    from {{ source('hris', spec.table) }} as s
    left join first_hashes as f
        on s._dup_seq > 1
        {%- for k in spec.key %}
        and f.{{ k }} = s.{{ k }}
        {%- endfor %}
)
{%- endmacro %}

{#- With index_only: `_reject_rule`, the number of the first failing rule (evaluated once
    per row); otherwise the three reject columns it maps to: _reject_reason,
    _reject_column, _reject_value. -#}
{% macro hris_reject_columns(spec, index_only=false) -%}
    {%- set personal = spec.get('personal', []) -%}
    {%- set rules = [] -%}
    {%- set key_missing = [] -%}
    {%- for k in spec.key -%}{%- do key_missing.append(k ~ '__text is null') -%}{%- endfor -%}
    {%- do rules.append(('missing_key', none, key_missing | join(' or '), 'null')) -%}
    {%- do rules.append(('exact_duplicate', none,
        '_dup_seq > 1 and _record_hash is not distinct from _first_hash', 'null')) -%}
    {%- do rules.append(('duplicate_key', none, '_dup_seq > 1', 'null')) -%}
    {%- for c in spec.get('required', []) -%}
        {%- do rules.append(('missing_value', c, c ~ '__text is null', 'null')) -%}
    {%- endfor -%}
    {%- for c in spec.get('parsed', []) -%}
        {%- do rules.append(('unparseable_value', c,
            c ~ '__text is not null and ' ~ c ~ ' is null', c ~ '__text')) -%}
    {%- endfor -%}
    {%- for c, bad in spec.get('ranges', []) -%}
        {%- do rules.append(('out_of_range', c, bad, c ~ '__text')) -%}
    {%- endfor -%}
    {%- for c, v in spec.get('vocab', {}).items() -%}
        {%- do rules.append(('invalid_value', c,
            c ~ ' is not null and ' ~ c ~ ' not in ' ~ vocab(v), c ~ '__text')) -%}
    {%- endfor -%}
    {%- for c, parent, parent_col in spec.get('orphans', []) -%}
        {%- do rules.append(('orphan', c,
            c ~ ' is not null and _parent_' ~ c ~ ' is null', c)) -%}
    {%- endfor -%}
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
            when {{ loop.index }} then
                {{- " '<redacted>'" if col in personal and val != 'null' else ' ' ~ val }}::text
        {%- endfor %}
        end as _reject_value
    {%- endif %}
{%- endmacro %}

{#- CTEs `joined` (typed rows + the parent keys found for orphan checks), `checked`
    (+ the number of the first failing rule) and `validated` (+ the reject columns).
    Expects a CTE `typed` with the `<col>__text` and the typed columns. -#}
{% macro hris_validated_ctes(spec) -%}
joined as (
    select
        t.*
        {%- for c, parent, parent_col in spec.get('orphans', []) %},
        p{{ loop.index }}.{{ parent_col }} as _parent_{{ c }}
        {%- endfor %}
    -- offset 0 keeps `typed` a subquery: each typed value (an HMAC, a safe cast) is
    -- computed once per row, not once per reference in the rules.
    from (select * from typed offset 0) as t
    {%- for c, parent, parent_col in spec.get('orphans', []) %}
    left join {{ ref(parent) }} as p{{ loop.index }}
        on p{{ loop.index }}.{{ parent_col }} = t.{{ c }}
        and p{{ loop.index }}._reject_reason is null
    {%- endfor %}
),

checked as (
    select
        *,
        {{ hris_reject_columns(spec, index_only=true) }}
    from joined
    offset 0
),

validated as (
    select
        *,
        {{ hris_reject_columns(spec) }}
    from checked
)
{%- endmacro %}
