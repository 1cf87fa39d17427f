{%- set spec = {
    'table': 'interviews',
    'columns': ['interview_id', 'candidate_id', 'round', 'interviewer_id', 'interview_date',
                'duration_minutes', 'overall_rating', 'recommendation'],
    'key': ['interview_id'],
    'required': ['candidate_id', 'round', 'interview_date'],
    'parsed': ['interview_date', 'duration_minutes', 'overall_rating'],
    'ranges': [
        ('duration_minutes', 'duration_minutes < 0'),
        ('overall_rating', 'overall_rating < 1 or overall_rating > 5'),
    ],
    'vocab': {'round': 'rounds', 'recommendation': 'recommendations'},
    'orphans': [('candidate_id', 'base_hris__candidates', 'candidate_id')],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('interview_id__text') }} as interview_id,
        {{ pseudonym('candidate_id__text') }} as candidate_id,
        lower(round__text) as round,
        {{ pseudonym('interviewer_id__text') }} as interviewer_id,
        {{ safe_date('interview_date__text') }} as interview_date,
        {{ safe_number('duration_minutes__text') }} as duration_minutes,
        {{ safe_number('overall_rating__text') }} as overall_rating,
        lower(recommendation__text) as recommendation
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    interview_id,
    candidate_id,
    round,
    interviewer_id,
    interview_date,
    duration_minutes,
    overall_rating,
    recommendation,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
