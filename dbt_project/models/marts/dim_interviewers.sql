{#- One row per interviewer (pseudonym): the rater offset as of the as-of date, from every
    centred interview up to it (same estimator as int_interviews_rater_adjusted, one day
    later). A trained model freezes this table into its version so the served model can put
    a request's scores on the training scale. Never joined into a feature table. -#}
with

centred as (
    select * from {{ ref('int_interviews_centred') }}
    where interviewer_id is not null
)

select
    interviewer_id,
    (coalesce(sum(mean_residual), 0)
        / (count(mean_residual) + {{ var('rater_prior_interviews') }}))::double precision
        as rater_offset,
    count(mean_residual) as rater_offset_n,
    count(*) as n_interviews,
    max(interview_date) as last_interview_date
from centred
group by interviewer_id
