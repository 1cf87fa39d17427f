{#- The export's date: what is "future" and what is "mature". Required, never the wall clock.
    While parsing (execute is false) a placeholder keeps `dbt parse` working without it. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of_date' is required, e.g. --vars '{as_of_date: 2025-06-30}'") }}
        {%- endif -%}
        {%- set value = '1970-01-01' -%}
    {%- endif -%}
    {%- set value = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var 'as_of_date' must be an ISO date (YYYY-MM-DD), got '" ~ value ~ "'") }}
    {%- endif -%}
    date '{{ value }}'
{%- endmacro %}
