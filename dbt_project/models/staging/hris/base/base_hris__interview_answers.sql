{#- answer_text is free text (it may name people): only its length leaves raw. -#}
{%- set spec = {
    'table': 'interview_answers',
    'columns': ['interview_id', 'question_id', 'answer_text', 'answered_fully',
                'response_seconds'],
    'key': ['interview_id', 'question_id'],
    'required': ['answered_fully'],
    'parsed': ['answered_fully', 'response_seconds'],
    'ranges': [('response_seconds', 'response_seconds < 0')],
    'orphans': [('interview_id', 'base_hris__interviews', 'interview_id'),
                ('question_id', 'base_hris__interview_questions', 'question_id')],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('interview_id__text') }} as interview_id,
        {{ pseudonym('question_id__text') }} as question_id,
        length(answer_text__text) as answer_length,
        {{ safe_bool('answered_fully__text') }} as answered_fully,
        {{ safe_number('response_seconds__text') }} as response_seconds
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    interview_id,
    question_id,
    answered_fully,
    response_seconds,
    answer_length,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
