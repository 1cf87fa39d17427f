{#- The interview features, identical in fct_training_examples and fct_candidates_to_score
    (ml/ reads them by name). Protected attributes are never features. -#}
{% macro interview_feature_columns() -%}
    {%- set cols = [] -%}
    {%- for sb in var('scored_by') -%}
        {%- for d in var('dimensions') -%}{%- do cols.append(sb ~ '_' ~ d) -%}{%- endfor -%}
    {%- endfor -%}
    {#- Human scores on one scale: each minus its interviewer's point-in-time offset. -#}
    {%- for d in var('dimensions') -%}{%- do cols.append('interviewer_' ~ d ~ '_adj') -%}{%- endfor -%}
    {%- for r in var('rounds') -%}{%- do cols.append('overall_rating_' ~ r) -%}{%- endfor -%}
    {%- for s in var('scenario_types') -%}
        {%- do cols.append('key_' ~ s ~ '_answered_fully_share') -%}
    {%- endfor -%}
    {%- do cols.extend([
        'n_interviews', 'n_interviewers', 'overall_rating_mean', 'recommend_share',
        'mean_duration_minutes', 'n_answers', 'n_key_questions', 'key_answered_fully_share',
        'answered_fully_share', 'mean_response_seconds',
        'years_experience']) -%}
    {%- do return(cols) -%}
{%- endmacro %}
