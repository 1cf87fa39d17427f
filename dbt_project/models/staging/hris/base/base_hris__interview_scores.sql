{%- set table = 'interview_scores' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('interview_id__text') }} as interview_id,
        dimension__value as dimension,
        scored_by__value as scored_by
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    interview_id,
    {{ hris_field(table, 'dimension') }},
    {{ hris_field(table, 'scored_by') }},
    score,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
