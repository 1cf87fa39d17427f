{#- One row per interview up to the as-of date: how far its human scores sit from what
    interviews of the same round, role family and dimension scored on EARLIER days
    (the cumulative mean over strictly earlier days: the reference never sees the
    interview's own day, nor anything later). The raw material of the rater offsets
    (int_interviews_rater_adjusted); never a feature itself.
      mean_residual       mean over the interview's human scores of score - reference
                          (NULL when no score has a reference yet)
      n_centred_scores    how many of its scores had a reference
      reference_max_source_date   the latest day behind its references (tests: < its day)
    Interviewers within a round and role family are compared with each other, so a later
    round's more selected candidates do not read as leniency. AI scores are never centred:
    the AI scorer has no rater effect. -#}
with

interviews as (
    select
        interviews.interview_id,
        interviews.candidate_id,
        interviews.interviewer_id,
        interviews.interview_date,
        interviews.round,
        job_roles.role_family
    from {{ ref('stg_hris__interviews') }} as interviews
    inner join {{ ref('stg_hris__candidates') }} as candidates
        on candidates.candidate_id = interviews.candidate_id
    left join {{ ref('stg_hris__job_roles') }} as job_roles
        on job_roles.role_id = candidates.applied_role_id
    where interviews.interview_date <= {{ as_of_date() }}
),

human_scores as (
    select
        scores.interview_id,
        scores.dimension,
        scores.score,
        interviews.interview_date,
        interviews.round,
        interviews.role_family
    from {{ ref('stg_hris__interview_scores') }} as scores
    inner join interviews on interviews.interview_id = scores.interview_id
    where scores.scored_by = 'interviewer'
),

daily as (
    select
        round,
        role_family,
        dimension,
        interview_date,
        sum(score) as score_sum,
        count(*) as n_scores
    from human_scores
    group by round, role_family, dimension, interview_date
),

reference as (
    select
        round,
        role_family,
        dimension,
        interview_date,
        sum(score_sum) over earlier_days
            / nullif(sum(n_scores) over earlier_days, 0) as reference_score,
        max(interview_date) over earlier_days as reference_max_source_date
    from daily
    window earlier_days as (
        partition by round, role_family, dimension
        order by interview_date
        rows between unbounded preceding and 1 preceding
    )
),

centred as (
    select
        human_scores.interview_id,
        avg(human_scores.score - reference.reference_score) as mean_residual,
        count(reference.reference_score) as n_centred_scores,
        max(reference.reference_max_source_date) as reference_max_source_date
    from human_scores
    inner join reference
        on reference.round = human_scores.round
        and reference.role_family is not distinct from human_scores.role_family
        and reference.dimension = human_scores.dimension
        and reference.interview_date = human_scores.interview_date
    group by human_scores.interview_id
)

select
    interviews.interview_id,
    interviews.candidate_id,
    interviews.interviewer_id,
    interviews.interview_date,
    interviews.round,
    interviews.role_family,
    centred.mean_residual,
    coalesce(centred.n_centred_scores, 0) as n_centred_scores,
    centred.reference_max_source_date
from interviews
left join centred on centred.interview_id = interviews.interview_id
