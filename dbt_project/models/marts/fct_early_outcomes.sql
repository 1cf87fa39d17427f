{#- One row per hire whose label has not matured yet (fewer than four reviews, still
    employed or left after the first year's window), with at least one interview before
    the hire date: the same point-in-time interview features as fct_training_examples and
    the reviews so far. Quarterly reviews arrive a quarter after the hire, four quarters
    before the label: monitoring compares the attainment so far with the model's
    probability so that a change in what predicts performance shows early.
      n_reviews_so_far   reviews used so far (0-3), the same reviews the label will use
                         (int_performance_reviews_ranked: from the hire date on, submitted
                         by the as-of date)
      attainment_so_far  share of them whose KPI met its target (direction-aware); null
                         while no review has arrived
    Labels and attainment come from int_hires_labeled, the one definition of both. -#}
with

labels as (
    select * from {{ ref('int_hires_labeled') }}
    where not label_mature
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
    labels.n_label_reviews as n_reviews_so_far,
    case when labels.n_label_reviews > 0 then labels.kpi_attainment end as attainment_so_far,
    features.last_interview_date,
    labels.first_review_period_start,
    labels.last_review_period_start
from labels
inner join features on features.candidate_id = labels.candidate_id
where features.n_interviews > 0
