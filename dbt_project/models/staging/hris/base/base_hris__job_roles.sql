{%- set table = 'job_roles' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('role_id__text') }} as role_id,
        role_family__value as role_family,
        title__text as title,
        level__text as level,
        kpi_name__text as kpi_name
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    role_id,
    {{ hris_field(table, 'role_family') }},
    title,
    level,
    kpi_name,
    kpi_target,
    kpi_higher_is_better,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
