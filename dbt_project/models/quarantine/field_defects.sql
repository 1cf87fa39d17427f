{#- Field defects: a value of a void column (var raw_rules, `void`) that breaks its rule, one
    row per raw row and column, whether the row was staged (the field is NULL there) or
    quarantined for another reason. Keys are the pseudonyms staging uses (the union of the
    tables' key columns, NULL where not part of a table's key); `value` is the raw text for
    vocabulary columns (to map it in an import profile), never for personal columns. -#}
{%- set all_rules = var('raw_rules') -%}
{%- set keys = [] -%}
{%- for t, r in all_rules.items() -%}
    {%- for k in r.key if k not in keys -%}{%- do keys.append(k) -%}{%- endfor -%}
{%- endfor -%}
{%- set parts = [] -%}
{%- for t, r in all_rules.items() -%}
    {%- for c in r.get('void', []) -%}{%- do parts.append((t, r, c)) -%}{%- endfor -%}
{%- endfor %}

{% for t, r, c in parts %}
select
    '{{ t }}'::text as table_name,
    {%- for k in keys %}
    {{ k if k in r.key else 'null' }}::text as {{ k }},
    {%- endfor %}
    _dup_seq,
    '{{ c }}'::text as column_name,
    _void_{{ c }}::text as reason,
    {{ '_void_' ~ c ~ '_value' if c in r.get('vocab', {}) and c not in r.get('personal', []) else 'null' }}::text as value,
    _reject_reason is null as row_staged
from {{ ref('base_hris__' ~ t) }}
where _void_{{ c }} is not null
{{ 'union all' if not loop.last }}
{%- else %}
select
    null::text as table_name,
    {%- for k in keys %}
    null::text as {{ k }},
    {%- endfor %}
    null::integer as _dup_seq,
    null::text as column_name,
    null::text as reason,
    null::text as value,
    null::boolean as row_staged
where false
{%- endfor %}
