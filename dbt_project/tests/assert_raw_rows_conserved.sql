-- Every raw row is either staged or quarantined, never lost or duplicated.
{%- set tables = var('raw_rules').keys() | list %}
with counts as (
    {%- for t in tables %}
    select
        '{{ t }}' as table_name,
        (select count(*) from {{ source('hris', t) }}) as raw_rows,
        (select count(*) from {{ ref('stg_hris__' ~ t) }}) as staged_rows,
        (select count(*) from {{ ref('quarantine_' ~ t) }}) as quarantined_rows
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select *
from counts
where raw_rows <> staged_rows + quarantined_rows
