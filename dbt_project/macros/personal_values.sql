{#- What looks like personal data, in SQL: the patterns of var('personal_patterns'), the
    same strings hris.personal_values compiles for Python (tests check both agree), and
    the raw tables' own full names (a name is ordinary text to a pattern). Quarantine and
    field defects copy an export's value only when neither matches. -#}

{% macro looks_personal(expr) -%}
    {%- set p = var('personal_patterns') -%}
    ({{ expr }} ~ '{{ p.email }}'
     or {{ expr }} ~ '{{ p.national_id }}'
     or {{ expr }} ~ '{{ p.id_token }}'
     or exists (
        select 1 from regexp_matches({{ expr }}, '{{ p.phone_run }}', 'g') as _pm(r)
        where length(regexp_replace(_pm.r[1], '[^0-9]', '', 'g')) >= {{ p.min_phone_digits }}
          and _pm.r[1] !~ '{{ p.date }}'
          and (_pm.r[1] !~ '{{ p.decimal }}'
               or length(regexp_replace(_pm.r[1], '[^0-9]', '', 'g')) >= {{ p.long_digits }})))
{%- endmacro %}

{#- A name as its words, lower-cased, one space apart (hris.personal_values.name_tokens);
    with `sorted`, the words in byte order (so 'Martinez, Oliver' is 'Oliver Martinez'). -#}
{% macro name_words(expr, sorted=false) -%}
    {%- if sorted -%}
    (select string_agg(_w, ' ' order by _w collate "C")
     from regexp_split_to_table(lower({{ expr }}), '\W+') as _w where _w <> '')
    {%- else -%}
    trim(regexp_replace(lower({{ expr }}), '\W+', ' ', 'g'))
    {%- endif -%}
{%- endmacro %}

{#- HMAC-SHA256 (hex) of a text with the database's row-hash key, private.raw_hash_key
    (hris.raw_protect.keyed_hash_sql is the same). -#}
{% macro keyed_hash(expr) -%}
    encode(sha256((select opad from private.raw_hash_key)
                  || sha256((select ipad from private.raw_hash_key)
                            || convert_to({{ expr }}, 'UTF8'))), 'hex')
{%- endmacro %}

{#- Is `expr` a full name of raw.candidates or raw.employees (its words, in either order)?
    The names are ciphertext: their keyed hashes (`_full_name_key`, made at load by
    hris.raw_protect from the same words) are read once per query (a hashed subplan). -#}
{% macro is_raw_full_name(expr) -%}
    ({{ keyed_hash(name_words(expr, sorted=true)) }} in (
        select _full_name_key from {{ source('hris', 'candidates') }}
        where _full_name_key is not null
        union
        select _full_name_key from {{ source('hris', 'employees') }}
        where _full_name_key is not null))
{%- endmacro %}

{#- A value's shape without its content: letters x, digits 9, the rest kept
    (hris.personal_values.mask). -#}
{% macro mask_value(expr) -%}
    regexp_replace(regexp_replace({{ expr }}, '[[:digit:]]', '9', 'g'), '[[:alpha:]]', 'x', 'g')
{%- endmacro %}

{#- An export's value of a vocabulary column as quarantine may keep it: as it came (so it can
    be mapped in an import profile) unless it is or looks personal ('<redacted>'). -#}
{% macro vocabulary_value(expr) -%}
    case when {{ looks_personal(expr) }} or {{ is_raw_full_name(expr) }}
         then '<redacted>' else {{ expr }} end
{%- endmacro %}
