{#- The rater offsets in force, as steps (int_rater_offset_steps): what the scoring endpoint
    loads with each build (ml/serving_context.py) to put a request's human scores on the
    feature store's scale. Interviewer pseudonyms only; never joined into a feature table. -#}
select interviewer_id, through_date, offset_after, n_after
from {{ ref('int_rater_offset_steps') }}
