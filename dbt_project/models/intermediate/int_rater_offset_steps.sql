{#- The rater offsets as a step function, one row per interviewer and interview day: the
    offset in force for that interviewer's interviews on days AFTER through_date, from every
    centred interview up to and including it (int_interviews_centred), shrunk with a prior
    of var('rater_prior_interviews') pseudo-interviews at offset 0.
      offset_after    sum of the mean residuals / (n + rater_prior_interviews)
      n_after         centred interviews behind it
    The one definition of the estimator: int_interviews_rater_adjusted reads an
    interview's offset as the step before its day, and the scoring endpoint looks up the
    same steps (marts.fct_rater_offset_steps) for a request's interviews, so an interview
    scored online gets the offset the feature store gives it. -#}
with

centred as (
    select * from {{ ref('int_interviews_centred') }}
    where interviewer_id is not null
),

interviewer_days as (
    select
        interviewer_id,
        interview_date,
        coalesce(sum(mean_residual), 0) as residual_sum,
        count(mean_residual) as n_centred
    from centred
    group by interviewer_id, interview_date
)

select
    interviewer_id,
    interview_date as through_date,
    (sum(residual_sum) over through_day
        / (sum(n_centred) over through_day + {{ var('rater_prior_interviews') }})
    )::double precision as offset_after,
    sum(n_centred) over through_day as n_after
from interviewer_days
window through_day as (
    partition by interviewer_id
    order by interview_date
    rows between unbounded preceding and current row
)
