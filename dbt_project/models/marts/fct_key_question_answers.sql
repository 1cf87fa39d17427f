{#- One row per mature hire (fct_training_examples) and key question asked before the hire
    date: did the hire answer it fully? The feedback analysis for HR leads compares the KPI
    attainment of those who did with those who did not, question by question (the feature
    tables hold only the share per scenario type). A question asked in more than one
    interview counts as answered fully only when every answer was full. -#}
with

examples as (
    select candidate_id, role_family, cohort_quarter
    from {{ ref('fct_training_examples') }}
),

interviews as (
    select interview_id, candidate_id from {{ ref('int_interviews_filtered') }}
),

answers as (
    select * from {{ ref('stg_hris__interview_answers') }}
),

key_questions as (
    select question_id from {{ ref('stg_hris__interview_questions') }}
    where is_key_question
)

select
    examples.candidate_id,
    examples.role_family,
    examples.cohort_quarter,
    answers.question_id,
    count(*) as times_asked,
    bool_and(answers.answered_fully) as answered_fully
from examples
inner join interviews on interviews.candidate_id = examples.candidate_id
inner join answers on answers.interview_id = interviews.interview_id
inner join key_questions on key_questions.question_id = answers.question_id
where answers.answered_fully is not null
group by examples.candidate_id, examples.role_family, examples.cohort_quarter,
    answers.question_id
