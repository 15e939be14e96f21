-- Grain: one row per deploy of a repository: a deployment, or a release for a repository
-- that ships by release (var deploy_sources; default: its deployments when it has any,
-- else its releases). Only the repository's source is kept, so nothing counts twice.
-- Rebuilt whole on every run (a table): a deployment's statuses change after it is
-- created, and rollbacks and restores are read across deployments.
{{ config(materialized='table') }}

with

deployments as (

    select * from {{ ref('stg_github__deployments') }}

),

statuses as (

    select * from {{ ref('stg_github__deployment_statuses') }}

),

releases as (

    select * from {{ ref('stg_github__releases') }}

),

commits as (

    select * from {{ ref('stg_github__default_branch_commits') }}

),

-- final_state: the latest status; outcome and finished_at: the first terminal one.
status_stats as (

    select
        deployment_id,
        arg_max(state, status_number)                              as final_state,
        min(created_at) filter (where state in ('SUCCESS', 'FAILURE', 'ERROR'))
                                                                   as finished_at,
        arg_min(state, status_number) filter (
            where state in ('SUCCESS', 'FAILURE', 'ERROR'))        as outcome
    from statuses
    group by 1

),

from_deployments as (

    select
        deployments.deployment_id,
        deployments.repo,
        deployments.environment,
        {{ is_production_environment('deployments.environment') }} as is_production,
        deployments.commit_oid,
        deployments.created_at,
        status_stats.final_state,
        status_stats.finished_at,
        status_stats.outcome,
        'deployment'                                               as source,
        deployments.creator_login
    from deployments
    left join status_stats
        on deployments.deployment_id = status_stats.deployment_id

),

-- A release is a successful production deployment at its published time.
from_releases as (

    select
        release_id                                                 as deployment_id,
        repo,
        'release'                                                  as environment,
        true                                                       as is_production,
        commit_oid,
        published_at                                               as created_at,
        'SUCCESS'                                                  as final_state,
        published_at                                               as finished_at,
        'SUCCESS'                                                  as outcome,
        'release'                                                  as source,
        cast(null as varchar)                                      as creator_login
    from releases

),

unioned as (

    select * from from_deployments
    union all
    select * from from_releases

),

repos_with_deployments as (

    select distinct lower(repo) as repo from deployments

),

sourced as (

    select unioned.*
    from unioned
    left join repos_with_deployments
        on lower(unioned.repo) = repos_with_deployments.repo
    where unioned.source = coalesce(
        {{ configured_deploy_source('unioned.repo') }},
        case when repos_with_deployments.repo is not null then 'deployment' else 'release' end)

),

-- The deployed commit's place in the default branch's history (null: not on it).
positioned as (

    select
        sourced.*,
        commits.committed_at                                       as commit_committed_at
    from sourced
    left join commits
        on sourced.repo = commits.repo and sourced.commit_oid = commits.commit_oid

),

-- The next production deployment of the same repository and environment.
sequenced as (

    select
        positioned.*,
        lead(created_at) over next_one                             as next_created_at,
        lead(commit_committed_at) over next_one                    as next_commit_committed_at
    from positioned
    window next_one as (
        partition by repo, environment, is_production
        order by created_at, deployment_id
    )

),

final as (

    select
        deployment_id,
        repo,
        environment,
        is_production,
        commit_oid,
        created_at,
        final_state,
        finished_at,
        source,
        creator_login,
        outcome,
        commit_committed_at,
        -- rolled back: the next production deployment of this repository and environment,
        -- within 24 hours, ships an older commit of the default branch
        coalesce(is_production and outcome = 'SUCCESS'
                 and next_created_at <= created_at + interval 24 hour
                 and next_commit_committed_at < commit_committed_at, false)
                                                                   as is_rolled_back,
        -- the first successful production deployment after a failed one (same repository
        -- and environment) ends the failure
        case when is_production and outcome in ('FAILURE', 'ERROR') then (
            select min(later.finished_at)
            from positioned as later
            where later.repo = sequenced.repo
              and later.environment = sequenced.environment
              and later.is_production
              and later.outcome = 'SUCCESS'
              and later.created_at > sequenced.created_at
        ) end                                                      as restored_at
    from sequenced

)

select * from final
