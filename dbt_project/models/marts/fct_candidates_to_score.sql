{#- Pending candidates with at least one interview, with the same feature columns as
    fct_training_examples (features as of the as-of date) and no labels. rater_ids (the
    interviewers' pseudonyms, interview order) is what a request to the served model
    carries so the model applies its own frozen rater offsets; never a feature. -#}
with

features as (
    select * from {{ ref('int_candidate_features_joined') }}
    where status = 'pending' and n_interviews > 0
)

select
    candidate_id,
    role_family,
    applied_role_id as role_id,
    application_date,
    education,
    {%- for c in interview_feature_columns() %}
    {{ c }},
    {%- endfor %}
    rater_ids,
    last_interview_date,
    {{ as_of_date() }} as features_as_of_date
from features
