{#
    Descriptions persisted as comments (`+persist_docs`, set on the marts): one query for
    the comments the relation has, one statement for the ones that differ.

    dbt's (with dbt-duckdb's column comments) take four rounds a model on every build: the
    relation's comment, a `describe` for its columns, a second `describe`, the columns'
    comments. Here a table just built (no comments yet) gets them all in two rounds; an
    incremental model whose descriptions did not change gets the query only. A documented
    column the relation lacks is left out, with dbt's own warning (`validate_doc_columns`).

    Example (a mart just rebuilt):
        comment on table "warehouse"."analytics"."dim_labels" is $dbt_comment_literal_block$...$dbt_comment_literal_block$;
        comment on column "warehouse"."analytics"."dim_labels".label_name is $dbt_comment_literal_block$...$dbt_comment_literal_block$;
#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set current = current_comments(relation) -%}
    {%- set statements = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description
            and current.relation != model.description -%}
        {%- do statements.append(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- set documented = validate_doc_columns(relation, model.columns, current.columns.keys() | list) -%}
        {%- for name, column in documented.items() -%}
            {%- set now = current.columns.get(name, current.columns.get(name | lower)) -%}
            {%- if now != column['description'] -%}
                {%- do statements.append(
                        'comment on column ' ~ relation ~ '.'
                        ~ (adapter.quote(name) if column['quote'] else name)
                        ~ ' is ' ~ duckdb_escape_comment(column['description']) ~ ';') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if statements -%}
        {%- do run_query(statements | join('\n')) -%}
    {%- endif -%}
{%- endmacro %}


{#
    in_catalog(relation, name_column): the predicate that picks `relation` out of one of
    DuckDB's catalog functions (`duckdb_columns()`, `duckdb_tables()`, `duckdb_views()`),
    whose name column is `table_name` or `view_name`.

    Example: `select count(*) from duckdb_tables() where {{ in_catalog(this) }}`
#}
{% macro in_catalog(relation, name_column='table_name') -%}
    database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
    and {{ name_column }} = '{{ relation.identifier }}'
{%- endmacro %}


{#
    current_comments(relation): `{'relation': its comment, 'columns': {name: comment}}`,
    null where none is set, from DuckDB's catalog in one query.
#}
{% macro current_comments(relation) -%}
    {%- set rows = run_query(
            "select column_name, comment from duckdb_columns() where " ~ in_catalog(relation)
            ~ " union all select null, comment from duckdb_tables() where "
            ~ in_catalog(relation)
            ~ " union all select null, comment from duckdb_views() where "
            ~ in_catalog(relation, 'view_name')) -%}
    {%- set found = {'relation': none, 'columns': {}} -%}
    {%- for row in rows -%}
        {%- if row[0] is none -%}
            {%- do found.update({'relation': row[1]}) -%}
        {%- else -%}
            {%- do found['columns'].update({row[0]: row[1]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}
