-- Protected attributes and personal columns never reach a fact (model input) table.
select table_name, column_name
from information_schema.columns
where table_schema = '{{ ref("fct_training_examples").schema }}'
    and table_name like 'fct\_%'
    and column_name in ('gender', 'age_band', 'age_40_plus', 'race_ethnicity', 'birth_date', 'full_name',
                        'national_id', 'email', 'phone')
