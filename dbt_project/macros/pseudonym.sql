{#- Keyed HMAC-SHA256 pseudonym of an id, in core SQL (no pgcrypto):
        hmac(k, m) = sha256(opad(k) || sha256(ipad(k) || m))
    with the two 64-byte pads read from private.pseudonym_key (hris.pseudonym installs
    them). The key never passes through dbt: no var, nothing in compiled SQL or artifacts.
    Ids are trimmed; blank ids give NULL. Lowercase hex, first 32 characters
    (hris.pseudonym.pseudonym is the Python reference). The scalar subqueries are
    evaluated once per query (init plans), not once per row. -#}
{% macro pseudonym(column) -%}
    left(encode(sha256(
        (select opad from private.pseudonym_key)
        || sha256((select ipad from private.pseudonym_key)
                  || convert_to(nullif(trim({{ column }}), ''), 'UTF8'))
    ), 'hex'), 32)
{%- endmacro %}

{#- Fails the run early and clearly when the key table is missing or not one row. -#}
{% macro require_pseudonym_key() -%}
    do $$
    begin
        if to_regclass('private.pseudonym_key') is null then
            raise exception 'private.pseudonym_key is missing: install the pseudonym key '
                'first (hris.pseudonym.install_pseudonym_key)';
        end if;
        if (select count(*) from private.pseudonym_key) <> 1 then
            raise exception 'private.pseudonym_key must hold exactly one row';
        end if;
    end
    $$
{%- endmacro %}
