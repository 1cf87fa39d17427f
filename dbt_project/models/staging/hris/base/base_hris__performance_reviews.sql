{%- set spec = {
    'table': 'performance_reviews',
    'columns': ['review_id', 'employee_id', 'period_start', 'period_end', 'kpi_name',
                'kpi_value', 'kpi_target', 'okr_score', 'rating', 'reviewer_id',
                'submitted_at'],
    'key': ['review_id'],
    'required': ['employee_id', 'period_start', 'kpi_value', 'submitted_at'],
    'parsed': ['period_start', 'period_end', 'kpi_value', 'kpi_target', 'okr_score', 'rating',
               'submitted_at'],
    'ranges': [
        ('period_end', 'period_end < period_start'),
        ('kpi_value', 'kpi_value < 0'),
        ('kpi_target', 'kpi_target < 0'),
        ('okr_score', 'okr_score < 0 or okr_score > 1'),
        ('rating', 'rating < 1 or rating > 5'),
    ],
    'orphans': [('employee_id', 'base_hris__employees', 'employee_id')],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('review_id__text') }} as review_id,
        {{ pseudonym('employee_id__text') }} as employee_id,
        {{ safe_date('period_start__text') }} as period_start,
        {{ safe_date('period_end__text') }} as period_end,
        kpi_name__text as kpi_name,
        {{ safe_number('kpi_value__text') }} as kpi_value,
        {{ safe_number('kpi_target__text') }} as kpi_target,
        {{ safe_number('okr_score__text') }} as okr_score,
        {{ safe_number('rating__text') }} as rating,
        {{ pseudonym('reviewer_id__text') }} as reviewer_id,
        {{ safe_date('submitted_at__text') }} as submitted_at
    from cleaned
),

{{ hris_validated_ctes(spec) }}

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
