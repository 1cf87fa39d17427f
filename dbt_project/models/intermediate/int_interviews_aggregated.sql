{#- Per candidate: counts and overall ratings of the point-in-time interviews, and the
    last interview date used (the point-in-time tests check it against the cutoff). -#}
with

interviews as (
    select * from {{ ref('int_interviews_filtered') }}
)

select
    candidate_id,
    count(*) as n_interviews,
    count(distinct interviewer_id) as n_interviewers,
    avg(overall_rating) as overall_rating_mean,
    {%- for r in var('rounds') %}
    avg(overall_rating) filter (where round = '{{ r }}') as overall_rating_{{ r }},
    {%- endfor %}
    avg(case when recommendation in ('strong_yes', 'yes') then 1.0
             when recommendation is not null then 0.0 end) as recommend_share,
    avg(duration_minutes) as mean_duration_minutes,
    min(interview_date) as first_interview_date,
    max(interview_date) as last_interview_date,
    max(feature_cutoff_date) as feature_cutoff_date
from interviews
group by candidate_id
