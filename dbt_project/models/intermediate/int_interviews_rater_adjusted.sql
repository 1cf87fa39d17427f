{#- One row per interview up to the as-of date: its interviewer's offset (leniency > 0,
    harshness < 0, in score points) as known BEFORE the interview's day. Point in time:
    the step of int_rater_offset_steps on the interviewer's previous interview day (only
    interviews on strictly earlier days feed it, each centred on an even earlier
    reference, int_interviews_centred).
      rater_offset              the previous step's offset_after; 0 without one (an
                                interviewer never seen before is the average rater)
      rater_offset_n            centred interviews behind it
      offset_max_source_date    the latest interview date that fed it (tests: < interview_date)
    Interviews without an interviewer id get offset 0. The interviewer id is carried for
    the candidate's rater list (serving) and dim_interviewers; it is never a feature. -#}
with

centred as (
    select * from {{ ref('int_interviews_centred') }}
),

steps as (
    select
        interviewer_id,
        through_date,
        lag(offset_after) over earlier as prior_offset,
        lag(n_after) over earlier as prior_n,
        lag(through_date) over earlier as offset_max_source_date
    from {{ ref('int_rater_offset_steps') }}
    window earlier as (partition by interviewer_id order by through_date)
)

select
    centred.interview_id,
    centred.candidate_id,
    centred.interviewer_id,
    centred.interview_date,
    coalesce(steps.prior_offset, 0)::double precision as rater_offset,
    coalesce(steps.prior_n, 0) as rater_offset_n,
    steps.offset_max_source_date
from centred
left join steps
    on steps.interviewer_id = centred.interviewer_id
    and steps.through_date = centred.interview_date
