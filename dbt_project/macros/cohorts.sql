{#- A hire's cohort: its hire quarter, e.g. 2023-Q2. One definition for every mart that
    carries cohort_quarter (ml.split groups by it; monitoring reports per cohort). -#}
{% macro cohort_quarter(date_column) -%}
    to_char({{ date_column }}, 'YYYY') || '-Q' || extract(quarter from {{ date_column }})
{%- endmacro %}
