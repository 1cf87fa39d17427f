{%- set table = 'performance_reviews' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('review_id__text') }} as review_id,
        {{ pseudonym('employee_id__text') }} as employee_id,
        kpi_name__text as kpi_name,
        {{ pseudonym('reviewer_id__text') }} as reviewer_id
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    review_id,
    employee_id,
    period_start,
    period_end,
    kpi_name,
    kpi_value,
    kpi_target,
    okr_score,
    rating,
    reviewer_id,
    submitted_at,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
