{#- Safe casts: a value that does not parse becomes NULL instead of failing the run, so
    the validated base models can route the row to quarantine. The checks first, the cast
    only in THEN (PostgreSQL does not promise evaluation order inside AND). Keep in step
    with monitoring/data_quality/sql.py: the GX raw suites evaluate the same SQL. -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- ISO date 'YYYY-MM-DD' (a time part after 'T' or ' ' is ignored), calendar-checked.
    Character tests and pg_input_is_valid instead of a regex: the same dates, a fifth of
    the time (a regex is most of a parse's cost on millions of rows). -#}
{% macro safe_date(column) -%}
    case when translate(left({{ column }}, 10), '0123456789', '0000000000') = '0000-00-00'
              and (length({{ column }}) = 10 or substr({{ column }}, 11, 1) in ('T', ' '))
              and pg_input_is_valid(left({{ column }}, 10), 'date')
    then left({{ column }}, 10)::date end
{%- endmacro %}

{#- A decimal number, optionally with an exponent, that double precision holds: digits,
    sign, point and e only (no NaN, Infinity or spaces), then PostgreSQL's own parser. -#}
{% macro safe_number(column) -%}
    case when ltrim({{ column }}, '0123456789.eE+-') = ''
              and pg_input_is_valid({{ column }}, 'float8')
    then ({{ column }})::double precision end
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

{#- Aged 40 or over at a reference date (protected attribute: fairness audit only): the
    ADEA's threshold, which the bands cannot give (35-44 straddles it). -#}
{% macro age_40_plus(birth_date, at_date) -%}
    case
        when {{ birth_date }} is null or {{ at_date }} is null then null
        else extract(year from age({{ at_date }}, {{ birth_date }})) >= 40
    end
{%- endmacro %}

{#- SQL list literal of a vocabulary var, e.g. ('hr', 'business'). -#}
{% macro vocab(name) -%}
    ({%- for v in var(name) -%}'{{ v }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
