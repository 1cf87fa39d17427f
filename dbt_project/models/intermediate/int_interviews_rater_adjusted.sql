{#- One row per interview up to the as-of date: its interviewer's offset (leniency > 0,
    harshness < 0, in score points) as known BEFORE the interview's day. Point in time:
    only the interviewer's interviews on strictly earlier days feed it, each centred on an
    even earlier reference (int_interviews_centred).
      rater_offset              shrunk mean residual: sum / (n + rater_prior_interviews),
                                i.e. a prior of k pseudo-interviews at offset 0 (an
                                interviewer never seen before is the average rater)
      rater_offset_n            centred interviews behind it
      offset_max_source_date    the latest interview date that fed it (tests: < interview_date)
    Interviews without an interviewer id get offset 0. The interviewer id is carried for
    the candidate's rater list (serving) and dim_interviewers; it is never a feature. -#}
with

centred as (
    select * from {{ ref('int_interviews_centred') }}
),

interviewer_days as (
    select
        interviewer_id,
        interview_date,
        coalesce(sum(mean_residual), 0) as residual_sum,
        count(mean_residual) as n_centred
    from centred
    where interviewer_id is not null
    group by interviewer_id, interview_date
),

cumulative as (
    select
        interviewer_id,
        interview_date,
        coalesce(sum(residual_sum) over earlier_days, 0) as prior_residual_sum,
        coalesce(sum(n_centred) over earlier_days, 0) as prior_n,
        max(interview_date) over earlier_days as offset_max_source_date
    from interviewer_days
    window earlier_days as (
        partition by interviewer_id
        order by interview_date
        rows between unbounded preceding and 1 preceding
    )
)

select
    centred.interview_id,
    centred.candidate_id,
    centred.interviewer_id,
    centred.interview_date,
    coalesce(
        cumulative.prior_residual_sum
            / (cumulative.prior_n + {{ var('rater_prior_interviews') }}),
        0
    )::double precision as rater_offset,
    coalesce(cumulative.prior_n, 0) as rater_offset_n,
    cumulative.offset_max_source_date
from centred
left join cumulative
    on cumulative.interviewer_id = centred.interviewer_id
    and cumulative.interview_date = centred.interview_date
