{#- One row per candidate: the point-in-time interview features, with the application
    facts a model may use. Candidates without usable interviews have NULL features. -#}
with

candidates as (
    select * from {{ ref('stg_hris__candidates') }}
),

job_roles as (
    select * from {{ ref('stg_hris__job_roles') }}
),

cutoffs as (
    select * from {{ ref('int_candidates_cutoff_dated') }}
),

interviews as (
    select * from {{ ref('int_interviews_aggregated') }}
),

scores as (
    select * from {{ ref('int_interview_scores_pivoted') }}
),

answers as (
    select * from {{ ref('int_interview_answers_aggregated') }}
)

select
    candidates.candidate_id,
    candidates.applied_role_id,
    job_roles.role_family,
    candidates.application_date,
    candidates.status,
    candidates.education,
    cutoffs.feature_cutoff_date,
    interviews.first_interview_date,
    interviews.last_interview_date,
    candidates.years_experience,
    coalesce(interviews.n_interviews, 0) as n_interviews,
    coalesce(answers.n_answers, 0) as n_answers,
    interviews.n_interviewers,
    interviews.overall_rating_mean,
    {%- for r in var('rounds') %}
    interviews.overall_rating_{{ r }},
    {%- endfor %}
    interviews.recommend_share,
    interviews.mean_duration_minutes,
    {%- for sb in var('scored_by') %}
    {%- for d in var('dimensions') %}
    scores.{{ sb }}_{{ d }},
    {%- endfor %}
    {%- endfor %}
    {%- for d in var('dimensions') %}
    scores.interviewer_{{ d }}_adj,
    {%- endfor %}
    interviews.rater_offset_mean,
    interviews.rater_offset_max_source_date,
    interviews.rater_ids,
    answers.n_key_questions,
    answers.key_answered_fully_share,
    {%- for s in var('scenario_types') %}
    answers.key_{{ s }}_answered_fully_share,
    {%- endfor %}
    answers.answered_fully_share,
    answers.mean_response_seconds
from candidates
inner join cutoffs on cutoffs.candidate_id = candidates.candidate_id
left join job_roles on job_roles.role_id = candidates.applied_role_id
left join interviews on interviews.candidate_id = candidates.candidate_id
left join scores on scores.candidate_id = candidates.candidate_id
left join answers on answers.candidate_id = candidates.candidate_id
