{#- Per candidate: the mean score per dimension over rounds and interviewers, one column
    per (scored_by, dimension), e.g. interviewer_communication, ai_communication. Human and
    AI scores are never mixed. Only point-in-time interviews (int_interviews_filtered). -#}
with

scores as (
    select * from {{ ref('stg_hris__interview_scores') }}
),

interviews as (
    select interview_id, candidate_id from {{ ref('int_interviews_filtered') }}
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
    count(*) as n_scores
from scores
inner join interviews on interviews.interview_id = scores.interview_id
group by interviews.candidate_id
