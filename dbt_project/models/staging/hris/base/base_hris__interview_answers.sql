{#- answer_text is free text (it may name people): only its length leaves raw. -#}
{%- set table = 'interview_answers' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('interview_id__text') }} as interview_id,
        {{ pseudonym('question_id__text') }} as question_id,
        length(answer_text__text) as answer_length
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    interview_id,
    question_id,
    answered_fully,
    {{ hris_field(table, 'response_seconds') }},
    answer_length,
    {{- hris_void_columns(table) }}
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
