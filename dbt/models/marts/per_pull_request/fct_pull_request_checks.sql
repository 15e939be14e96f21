-- Grain: one row per check on a pull request's head commit (GitHub node id of the
-- CheckRun or StatusContext), every run kept: a re-run check has two rows, and
-- `is_counted` marks the one that counts (the latest started of the same kind, workflow
-- and name, as in GitHub's rollup). PRs with no checks have no rows.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql).
{%- set loaded_since = loaded_since_last_build() %}

with

checks as (

    select * from {{ ref('stg_github__pull_request_checks') }}
    where {{ loaded_since }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

final as (

    select
        checks.check_id,
        checks.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        checks.check_name,
        checks.workflow_name,
        checks.kind,
        checks.is_required,
        checks.status,
        checks.conclusion,
        checks.started_at,
        checks.completed_at,
        date_diff('second', checks.started_at, checks.completed_at)
                                                                   as duration_seconds,
        row_number() over (
            partition by checks.pull_request_id, checks.kind,
                         coalesce(checks.workflow_name, ''), checks.check_name
            order by checks.started_at desc nulls last, checks.position desc
        ) = 1                                                      as is_counted,
        checks.loaded_at
    from checks
    inner join pull_requests
        on checks.pull_request_id = pull_requests.pull_request_id

)

select * from final
