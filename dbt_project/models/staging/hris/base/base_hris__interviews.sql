{%- set table = 'interviews' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('interview_id__text') }} as interview_id,
        {{ pseudonym('candidate_id__text') }} as candidate_id,
        round__value as round,
        {{ pseudonym('interviewer_id__text') }} as interviewer_id,
        recommendation__value as recommendation
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    interview_id,
    candidate_id,
    {{ hris_field(table, 'round') }},
    interviewer_id,
    interview_date,
    {{ hris_field(table, 'duration_minutes') }},
    overall_rating,
    {{ hris_field(table, 'recommendation') }},
    {{- hris_void_columns(table) }}
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
