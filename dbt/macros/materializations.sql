{#
    The view, table and data-test materializations of this project: one statement each.

    dbt's own (dbt-duckdb uses dbt-core's view; its table is its own) build every model
    under a temporary name, rename the old relation to a backup, rename the new one into
    place and drop the backup: five to seven statements a model, each a round of dbt's
    macro machinery and log events. DuckDB replaces a view or a table in one atomic
    statement, and a reader of the file never sees it half-built (one writer; the
    analysts read the snapshot). On the demo warehouse a models-only build takes ~8%
    less CPU (bench/README.md). Incremental models keep dbt-duckdb's materialization.

    Nor do these open a transaction around that one statement (dbt's would: a BEGIN and a
    COMMIT, two more rounds): DuckDB commits a statement run outside one by itself. A hook
    with SQL opens one (dbt's `run_hooks`), which `adapter.commit()` then commits; with
    none open, dbt-duckdb's commit does nothing. A data test is one read-only query, which
    dbt runs in a transaction it then rolls back. Without the BEGIN and the rollback, a
    build's data tests take ~10% less CPU (bench/README.md).

    What these leave out, because the project uses none of it: Python models, contracts,
    indexes, foreign keys, partitioning, grants, DuckLake. A model that asks for a contract
    or indexes fails to compile, naming the model, instead of being built without them:
    it needs dbt-duckdb's materialization back. A data test that stores its failures
    (`--store-failures`) or has a `sql_header` runs dbt's own test materialization.

    Example (a staging view on every build):
        create or replace view "warehouse"."staging"."stg_github__pull_request_labels" as (select ...)
#}

{% macro assert_nothing_left_out() -%}
    {%- set contract = config.get('contract') -%}
    {%- if (contract and contract.enforced) or config.get('indexes') -%}
        {{- exceptions.raise_compiler_error(
                model.name ~ " asks for a contract or indexes, which the project's view and "
                ~ "table materializations do not build (macros/materializations.sql)") -}}
    {%- endif -%}
{%- endmacro %}


{#
    replace_in_one_statement(kind): the body of both materializations, `kind` being
    'view' or 'table'. A relation of the other kind under the model's name (a model whose
    materialization changed) is dropped first: `create or replace` replaces only a
    relation of its own kind; the drop and the create then share a transaction, so a create
    that fails leaves the old relation in place.
#}
{% macro replace_in_one_statement(kind) %}
    {{ assert_nothing_left_out() }}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type=kind) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is not none and existing_relation.type != target_relation.type %}
        {% do adapter.ensure_transaction() %}
        {{ drop_relation_if_exists(existing_relation) }}
    {%- endif %}
    {% call statement('main', auto_begin=False) -%}
        create or replace {{ kind }} {{ target_relation }} as (
            {{ compiled_code }}
        )
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}


{% materialization view, adapter='duckdb' %}
    {{ return(replace_in_one_statement('view')) }}
{% endmaterialization %}


{% materialization table, adapter='duckdb', supported_languages=['sql'] %}
    {{ return(replace_in_one_statement('table')) }}
{% endmaterialization %}


{#
    Data tests: dbt's `get_test_sql` (failures, should_warn, should_error) of the test's
    query, run outside a transaction.
#}
{% materialization test, adapter='duckdb' %}
    {%- if should_store_failures() or config.get('sql_header') -%}
        {{ return(dbt.materialization_test_default()) }}
    {%- endif -%}
    {%- set limit = config.get('limit') -%}
    {% call statement('main', fetch_result=True, auto_begin=False) -%}
        {{ get_test_sql(get_limit_subquery_sql(sql, limit), config.get('fail_calc'),
                        config.get('warn_if'), config.get('error_if'), limit=none) }}
    {%- endcall %}
    {{ return({'relations': []}) }}
{% endmaterialization %}
