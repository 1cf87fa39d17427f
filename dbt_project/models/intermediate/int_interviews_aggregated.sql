{#- Per candidate: counts and overall ratings of the point-in-time interviews, and the
    last interview date used (the point-in-time tests check it against the cutoff).
    Rater offsets (int_interviews_rater_adjusted): rater_offset_mean over the interviews,
    rater_offset_max_source_date (the latest interview that fed any of them: each is
    earlier than the interview it adjusts), and rater_ids, the interviewers' pseudonyms in interview
    order: what a served request sends so the model applies its own frozen offsets. -#}
with

interviews as (
    select
        filtered.*,
        adjusted.rater_offset,
        adjusted.offset_max_source_date
    from {{ ref('int_interviews_filtered') }} as filtered
    left join {{ ref('int_interviews_rater_adjusted') }} as adjusted
        on adjusted.interview_id = filtered.interview_id
)

select
    candidate_id,
    count(*) as n_interviews,
    count(distinct interviewer_id) as n_interviewers,
    avg(overall_rating) as overall_rating_mean,
    {%- for r in var('rounds') %}
    avg(overall_rating) filter (where round = '{{ r }}') as overall_rating_{{ r }},
    {%- endfor %}
    avg(case when recommendation in (
                {%- for r in var('positive_recommendations') %}'{{ r }}'{{ ', ' if not loop.last }}{% endfor -%}
             ) then 1.0
             when recommendation is not null then 0.0 end) as recommend_share,
    avg(duration_minutes) as mean_duration_minutes,
    min(interview_date) as first_interview_date,
    max(interview_date) as last_interview_date,
    max(feature_cutoff_date) as feature_cutoff_date,
    avg(coalesce(rater_offset, 0)) as rater_offset_mean,
    max(offset_max_source_date) as rater_offset_max_source_date,
    string_agg(interviewer_id, ',' order by interview_date, interview_id) as rater_ids
from interviews
group by candidate_id
