{#- The interviews that may feed features: strictly before the candidate's cutoff. -#}
with

interviews as (
    select * from {{ ref('stg_hris__interviews') }}
),

cutoffs as (
    select * from {{ ref('int_candidates_cutoff_dated') }}
)

select
    interviews.interview_id,
    interviews.candidate_id,
    interviews.round,
    interviews.interviewer_id,
    interviews.interview_date,
    interviews.duration_minutes,
    interviews.overall_rating,
    interviews.recommendation,
    cutoffs.feature_cutoff_date
from interviews
inner join cutoffs on cutoffs.candidate_id = interviews.candidate_id
where interviews.interview_date < cutoffs.feature_cutoff_date
