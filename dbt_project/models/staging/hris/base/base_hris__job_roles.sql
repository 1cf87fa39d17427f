{%- set spec = {
    'table': 'job_roles',
    'columns': ['role_id', 'role_family', 'title', 'level', 'kpi_name', 'kpi_target',
                'kpi_higher_is_better'],
    'key': ['role_id'],
    'required': ['role_family', 'kpi_target', 'kpi_higher_is_better'],
    'parsed': ['kpi_target', 'kpi_higher_is_better'],
    'ranges': [],
    'vocab': {'role_family': 'role_families'},
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('role_id__text') }} as role_id,
        lower(role_family__text) as role_family,
        title__text as title,
        level__text as level,
        kpi_name__text as kpi_name,
        {{ safe_number('kpi_target__text') }} as kpi_target,
        {{ safe_bool('kpi_higher_is_better__text') }} as kpi_higher_is_better
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    role_id,
    role_family,
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
