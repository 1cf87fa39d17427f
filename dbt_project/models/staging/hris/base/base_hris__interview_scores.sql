{%- set spec = {
    'table': 'interview_scores',
    'columns': ['interview_id', 'dimension', 'score', 'scored_by'],
    'key': ['interview_id', 'dimension', 'scored_by'],
    'required': ['score'],
    'parsed': ['score'],
    'ranges': [('score', 'score < 0 or score > 10')],
    'vocab': {'dimension': 'dimensions', 'scored_by': 'scored_by'},
    'orphans': [('interview_id', 'base_hris__interviews', 'interview_id')],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('interview_id__text') }} as interview_id,
        lower(dimension__text) as dimension,
        {{ safe_number('score__text') }} as score,
        lower(scored_by__text) as scored_by
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    interview_id,
    dimension,
    scored_by,
    score,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
