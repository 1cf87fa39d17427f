{#- Per candidate: the mean score per dimension over rounds and interviewers, one column
    per (scored_by, dimension), e.g. interviewer_communication, ai_communication. Human and
    AI scores are never mixed. Only point-in-time interviews (int_interviews_filtered).
    interviewer_<dimension>_adj: the same mean of human scores, each minus its interviewer's
    offset as known before that interview (int_interviews_rater_adjusted): lenient and
    harsh raters put on one scale. -#}
with

scores as (
    select * from {{ ref('stg_hris__interview_scores') }}
),

interviews as (
    select filtered.interview_id, filtered.candidate_id, adjusted.rater_offset
    from {{ ref('int_interviews_filtered') }} as filtered
    left join {{ ref('int_interviews_rater_adjusted') }} as adjusted
        on adjusted.interview_id = filtered.interview_id
)

select
    interviews.candidate_id,
    {%- for sb in var('scored_by') %}
    {%- for d in var('dimensions') %}
    avg(scores.score) filter (
        where scores.scored_by = '{{ sb }}' and scores.dimension = '{{ d }}'
    ) as {{ sb }}_{{ d }},
    {%- endfor %}
    {%- endfor %}
    {%- for d in var('dimensions') %}
    avg(scores.score - coalesce(interviews.rater_offset, 0)) filter (
        where scores.scored_by = 'interviewer' and scores.dimension = '{{ d }}'
    ) as interviewer_{{ d }}_adj,
    {%- endfor %}
    count(*) as n_scores
from scores
inner join interviews on interviews.interview_id = scores.interview_id
group by interviews.candidate_id
