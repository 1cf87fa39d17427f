{#- Safe casts: a value that does not parse becomes NULL instead of failing the run, so
    the validated base models can route the row to quarantine. Regex first, cast inside a
    nested CASE (PostgreSQL does not promise evaluation order inside AND). -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- ISO date 'YYYY-MM-DD' (a time part after 'T' or ' ' is ignored), calendar-checked. -#}
{% macro safe_date(column) -%}
    case when {{ column }} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ].*)?$'
              and left({{ column }}, 4) <> '0000'
    then case when substr({{ column }}, 9, 2)::int <= extract(day from (
                  make_date(left({{ column }}, 4)::int, substr({{ column }}, 6, 2)::int, 1)
                  + interval '1 month - 1 day'))
         then left({{ column }}, 10)::date end
    end
{%- endmacro %}

{#- Decimal number (optionally with a short exponent) as double precision. -#}
{% macro safe_number(column) -%}
    case when {{ column }} ~ '^[+-]?([0-9]{1,20}(\.[0-9]*)?|\.[0-9]{1,20})([eE][+-]?[0-9]{1,2})?$'
    then {{ column }}::double precision end
{%- endmacro %}

{#- Booleans as exports write them: true/false, t/f, yes/no, y/n, 1/0 (any case). -#}
{% macro safe_bool(column) -%}
    case lower({{ column }})
        when 'true' then true when 't' then true when 'yes' then true
        when 'y' then true when '1' then true when '1.0' then true
        when 'false' then false when 'f' then false when 'no' then false
        when 'n' then false when '0' then false when '0.0' then false
    end
{%- endmacro %}

{#- Age band at a reference date (protected attribute: fairness audit only). -#}
{% macro age_band(birth_date, at_date) -%}
    case
        when {{ birth_date }} is null or {{ at_date }} is null then null
        when extract(year from age({{ at_date }}, {{ birth_date }})) < 25 then '<25'
        when extract(year from age({{ at_date }}, {{ birth_date }})) < 35 then '25-34'
        when extract(year from age({{ at_date }}, {{ birth_date }})) < 45 then '35-44'
        when extract(year from age({{ at_date }}, {{ birth_date }})) < 55 then '45-54'
        else '55+'
    end
{%- endmacro %}

{#- SQL list literal of a vocabulary var, e.g. ('hr', 'business'). -#}
{% macro vocab(name) -%}
    ({%- for v in var(name) -%}'{{ v }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
