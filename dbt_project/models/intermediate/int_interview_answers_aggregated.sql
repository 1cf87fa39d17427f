{#- Per candidate: how fully the (key) questions were answered and how long answers took.
    Key questions differ by role family, so they are summarised per scenario type
    (e.g. the manufacturing "production anomaly" question is a key kpi_scenario). -#}
with

answers as (
    select * from {{ ref('stg_hris__interview_answers') }}
),

questions as (
    select * from {{ ref('stg_hris__interview_questions') }}
),

interviews as (
    select interview_id, candidate_id from {{ ref('int_interviews_filtered') }}
)

select
    interviews.candidate_id,
    count(*) as n_answers,
    count(*) filter (where questions.is_key_question) as n_key_questions,
    avg(answers.answered_fully::int::double precision) filter (
        where questions.is_key_question
    ) as key_answered_fully_share,
    {%- for s in var('scenario_types') %}
    avg(answers.answered_fully::int::double precision) filter (
        where questions.is_key_question and questions.scenario_type = '{{ s }}'
    ) as key_{{ s }}_answered_fully_share,
    {%- endfor %}
    avg(answers.answered_fully::int::double precision) as answered_fully_share,
    avg(answers.response_seconds) as mean_response_seconds
from answers
inner join interviews on interviews.interview_id = answers.interview_id
inner join questions on questions.question_id = answers.question_id
group by interviews.candidate_id
