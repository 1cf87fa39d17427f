{#- GRANT SELECT on every column of this model but `excluded` to each of `grantees` (a
    post-hook: the table is new at each build, so is the grant). Column grants are not
    table grants, so dbt's +grants leaves them alone. -#}
{% macro grant_select_except(grantees, excluded) %}
do $grant$
declare
    cols text;
begin
    select string_agg(quote_ident(column_name), ', ' order by ordinal_position) into cols
    from information_schema.columns
    where table_schema = '{{ this.schema }}' and table_name = '{{ this.identifier }}'
      and column_name not in ({% for c in excluded %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %});
    {%- for grantee in grantees %}
    execute format('grant select (%s) on {{ this.schema }}.{{ this.identifier }} to %I', cols, '{{ grantee }}');
    {%- endfor %}
end
$grant$
{% endmacro %}
