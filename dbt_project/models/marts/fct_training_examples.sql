{#- One row per mature hire: point-in-time interview features (as of the hire date) and the
    label. No protected attribute appears here (they live in dim_candidates, for the
    fairness audit only). last_interview_date / first_review_period_start are carried for
    the point-in-time tests, not as features. -#}
with

labels as (
    select * from {{ ref('int_hires_labeled') }}
    where label_mature
),

features as (
    select * from {{ ref('int_candidate_features_joined') }}
)

select
    labels.candidate_id,
    labels.role_family,
    labels.role_id,
    labels.hire_date,
    {{ cohort_quarter('labels.hire_date') }} as cohort_quarter,
    features.education,
    {%- for c in interview_feature_columns() %}
    features.{{ c }},
    {%- endfor %}
    labels.kpi_attainment,
    labels.met_kpi,
    labels.retained_12m,
    labels.n_label_reviews,
    features.last_interview_date,
    labels.first_review_period_start
from labels
inner join features on features.candidate_id = labels.candidate_id
where features.n_interviews > 0
